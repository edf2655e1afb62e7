/**
 * The top of the panel: whose tracker, where the results come from, the overall count of
 * satisfied items and the derived counts (modules completed, exercises, checkpoints, level).
 */
import { downloadIcon, refreshIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { TrackerModel } from '../model';
import { ItemDef, ResultsSource, sectionItems, Tracker } from '../tokens';
import { ITrackerActions } from './actions';
import { InlineMarkdown } from './InlineMarkdown';

const SOURCE_LABELS: Record<ResultsSource, string> = {
  gradebook: 'results from your local checks',
  feedback: 'results from released feedback',
  none: 'no grading results yet'
};

export interface IProgressHeaderProps {
  model: TrackerModel;
  tracker: Tracker;
  actions: ITrackerActions;
}

/** The derived items of the first section that has any: the seed's "Overall Progress". */
export function headlineItems(tracker: Tracker): ItemDef[] {
  for (const section of tracker.sections) {
    const derived = sectionItems(section).filter(i => i.kind === 'derived');
    if (derived.length > 0) {
      return derived;
    }
  }
  return [];
}

export function ProgressHeader({ model, tracker, actions }: IProgressHeaderProps): JSX.Element {
  const { satisfied, total } = tracker.summary;
  const percent = total > 0 ? Math.round((100 * satisfied) / total) : 0;
  return (
    <header className="jp-CourseTracker-header">
      <div className="jp-CourseTracker-titleRow">
        <h2 className="jp-CourseTracker-title">Progress</h2>
        <div className="jp-CourseTracker-toolbar">
          <button
            className="jp-CourseTracker-iconButton"
            title="Refresh"
            aria-label="Refresh"
            onClick={() => void model.refresh()}
          >
            <refreshIcon.react tag="span" />
          </button>
          <button
            className="jp-CourseTracker-iconButton"
            title="Export as Markdown"
            aria-label="Export as Markdown"
            onClick={() => actions.exportMarkdown()}
          >
            <downloadIcon.react tag="span" />
          </button>
        </div>
      </div>
      <div className="jp-CourseTracker-subtitle">
        {tracker.title} · {tracker.student} · {SOURCE_LABELS[tracker.results_source]}
      </div>
      {typeof model.sharing === 'boolean' && (
        <label
          className="jp-CourseTracker-sharing"
          title={
            'On: your ticks, choices and texts are written to shared-progress.json in each ' +
            'assignment folder and go to your instructor with your next submission. ' +
            'Off: those files are removed.'
          }
        >
          <input
            type="checkbox"
            className="jp-CourseTracker-checkbox"
            checked={model.sharing}
            disabled={model.isSavingSharing}
            onChange={event => void model.setSharing(event.target.checked)}
          />
          <span>Share my progress with my instructor</span>
        </label>
      )}
      <div
        className="jp-CourseTracker-summary"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={satisfied}
      >
        <div className="jp-CourseTracker-bar">
          <div className="jp-CourseTracker-barFill" style={{ width: `${percent}%` }} />
        </div>
        <span
          className="jp-CourseTracker-summaryText"
          title="Steps done: ticks, graded exercises and setup checks (what you write is not counted)"
        >
          {satisfied} / {total} steps ({percent}%)
        </span>
      </div>
      <ul className="jp-CourseTracker-headline">
        {headlineItems(tracker).map(item => (
          <li key={item.id} data-item-id={item.id}>
            <span className="jp-CourseTracker-headlineLabel">
              <InlineMarkdown text={item.text} />
            </span>
            <span className="jp-CourseTracker-headlineValue">
              {String(model.itemState(item.id)?.value ?? '–')}
            </span>
          </li>
        ))}
      </ul>
    </header>
  );
}
