/** The sidebar panel: a Lumino widget that renders the React tracker view. */
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { ITrackerActions } from './components/actions';
import { TrackerView } from './components/TrackerView';
import { trackerIcon } from './icon';
import { TrackerModel } from './model';
import { PANEL_ID } from './tokens';

export class TrackerPanel extends ReactWidget {
  constructor(
    readonly model: TrackerModel,
    private readonly _actions: ITrackerActions
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-CourseTracker-panel');
    this.title.icon = trackerIcon;
    this.title.caption = 'Progress';
  }

  protected render(): JSX.Element {
    return <TrackerView model={this.model} actions={this._actions} />;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }
}
