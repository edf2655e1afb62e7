/** The whole Progress panel. */
import React from 'react';

import { TrackerModel } from '../model';
import { AssignmentInfo, Tracker, walkItems } from '../tokens';
import { ITrackerActions } from './actions';
import { CheckMyWork } from './CheckMyWork';
import { ErrorBanner, Notices } from './ErrorBanner';
import { ProgressHeader } from './ProgressHeader';
import { SectionView } from './SectionView';
import { useModel } from './useModel';

export interface ITrackerViewProps {
  model: TrackerModel;
  actions: ITrackerActions;
  /** Milliseconds of quiet before a text item is saved. */
  textDelay?: number;
}

/**
 * Which section shows each assignment's "Check my work": the first one with an item graded from
 * that assignment. Assignments no item points at are shown at the top instead.
 */
export function placeAssignments(tracker: Tracker): {
  bySection: Map<string, AssignmentInfo[]>;
  unplaced: AssignmentInfo[];
} {
  const home = new Map<string, string>();
  for (const { section, item } of walkItems(tracker.sections)) {
    if (item.assignment && !home.has(item.assignment)) {
      home.set(item.assignment, section.id);
    }
  }
  const bySection = new Map<string, AssignmentInfo[]>();
  const unplaced: AssignmentInfo[] = [];
  for (const assignment of tracker.assignments) {
    const sectionId = home.get(assignment.id);
    if (sectionId === undefined) {
      unplaced.push(assignment);
    } else {
      bySection.set(sectionId, [...(bySection.get(sectionId) ?? []), assignment]);
    }
  }
  return { bySection, unplaced };
}

export function TrackerView({ model, actions, textDelay = 800 }: ITrackerViewProps): JSX.Element {
  useModel(model);
  const tracker = model.tracker;
  const retry = () => void model.refresh();

  if (!tracker) {
    if (model.status === 'error') {
      return (
        <div className="jp-CourseTracker">
          <ErrorBanner
            title="The progress tracker could not be loaded."
            message={model.error ?? 'Unknown error.'}
            onRetry={retry}
          />
          <p className="jp-CourseTracker-hint">
            The tracker needs the course_tracker server extension: check that{' '}
            <code>jupyter server extension list</code> shows it enabled, and the server log.
          </p>
        </div>
      );
    }
    return (
      <div className="jp-CourseTracker">
        <div className="jp-CourseTracker-loading" role="status">
          Loading the progress tracker…
        </div>
      </div>
    );
  }

  const { bySection, unplaced } = placeAssignments(tracker);
  return (
    <div className="jp-CourseTracker">
      <ProgressHeader model={model} tracker={tracker} actions={actions} />
      {model.error && (
        <ErrorBanner
          title="Could not refresh; showing the last known state."
          message={model.error}
          onRetry={retry}
        />
      )}
      <Notices notices={model.notices} onDismiss={id => model.dismissNotice(id)} />
      {unplaced.length > 0 && (
        <div className="jp-CourseTracker-checks">
          {unplaced.map(assignment => (
            <CheckMyWork
              key={assignment.id}
              model={model}
              assignment={assignment}
              actions={actions}
            />
          ))}
        </div>
      )}
      {tracker.sections.map(section => (
        <SectionView
          key={section.id}
          model={model}
          section={section}
          assignments={bySection.get(section.id) ?? []}
          actions={actions}
          textDelay={textDelay}
        />
      ))}
    </div>
  );
}
