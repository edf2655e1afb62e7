/**
 * The cohort view plugin, for instructors only. At start-up it asks the server once for the
 * cohort report: a 403 (a student's server, `CourseTracker.role = "student"`) means it adds
 * nothing at all — no command, no palette entry, no panel. An instructor gets the command
 * "Cohort view" (palette category "Course"), which opens the view in the main area.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { TrackerApi } from './api';
import { CohortModel, ICohort, ICohortApi, probeCohort } from './cohort';
import { CohortView } from './components/CohortView';
import { trackerIcon } from './icon';

export const COHORT_PLUGIN_ID = 'jupyterlab-course-tracker:cohort';
export const COHORT_COMMAND = 'course-tracker:cohort';
export const COHORT_WIDGET_ID = 'course-tracker-cohort';
const PALETTE_CATEGORY = 'Course';

/** The React view in a Lumino widget; disposing it stops the model's polling. */
export class CohortPanel extends ReactWidget {
  constructor(readonly model: CohortModel) {
    super();
    this.addClass('jp-CourseCohort-panel');
  }

  protected render(): JSX.Element {
    return React.createElement(CohortView, { model: this.model });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }
}

/**
 * Add the command if the server says this user is an instructor. Resolves with whether it did;
 * exported for the tests (the plugin's `activate` does not wait for it, so a slow server never
 * holds up JupyterLab's start).
 */
export async function setUpCohort(
  app: JupyterFrontEnd,
  api: ICohortApi,
  palette: ICommandPalette | null
): Promise<boolean> {
  let first: ICohort | null;
  try {
    const answer = await probeCohort(api);
    if (answer.role !== 'instructor') {
      return false;
    }
    first = answer.report;
  } catch (error) {
    // Not a 403 and not a report: the role is unknown, so show nothing rather than guess.
    console.warn(`${COHORT_PLUGIN_ID}: could not ask the server for the cohort view.`, error);
    return false;
  }

  let widget: MainAreaWidget<CohortPanel> | null = null;
  app.commands.addCommand(COHORT_COMMAND, {
    label: 'Cohort view',
    caption: "The cohort's progress, score distributions and most-failed tests (instructors)",
    icon: trackerIcon,
    execute: () => {
      if (!widget || widget.isDisposed) {
        const model = new CohortModel({ api, initial: first });
        first = null; // a later reopening reads a fresh report
        widget = new MainAreaWidget({ content: new CohortPanel(model) });
        widget.id = COHORT_WIDGET_ID;
        widget.title.label = 'Cohort';
        widget.title.icon = trackerIcon;
        widget.title.closable = true;
      }
      if (!widget.isAttached) {
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      return widget;
    }
  });
  palette?.addItem({ command: COHORT_COMMAND, category: PALETTE_CATEGORY });
  return true;
}

export const cohortPlugin: JupyterFrontEndPlugin<void> = {
  id: COHORT_PLUGIN_ID,
  description: "The instructor's cohort view: students × tracker items, from the gradebook.",
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null): void => {
    void setUpCohort(app, new TrackerApi(app.serviceManager.serverSettings), palette);
  }
};

export default cohortPlugin;
