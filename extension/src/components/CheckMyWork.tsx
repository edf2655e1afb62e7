/**
 * "Check my work" for one assignment: grades the learner's workspace copy with the course's
 * tests (hidden ones included) and shows the progress, then the per-notebook scores.
 */
import React from 'react';

import { TrackerModel } from '../model';
import { AssignmentInfo, isFinished } from '../tokens';
import { formatScore } from './ItemRow';

export interface ICheckMyWorkProps {
  model: TrackerModel;
  assignment: AssignmentInfo;
}

export function CheckMyWork({ model, assignment }: ICheckMyWorkProps): JSX.Element | null {
  const check = model.checks.check(assignment.id);
  const busy = model.checks.isChecking(assignment.id);
  if (!assignment.checkable && !check) {
    return null;
  }
  const running = check !== undefined && !isFinished(check);
  return (
    <div className="jp-CourseTracker-check" data-assignment={assignment.id}>
      {assignment.checkable && (
        <button
          className="jp-CourseTracker-button jp-CourseTracker-checkButton"
          disabled={busy}
          title={`Grade your ${assignment.title} notebooks with the course's tests`}
          onClick={() => void model.checks.startCheck(assignment.id)}
        >
          {busy ? 'Checking…' : 'Check my work'}
        </button>
      )}
      {running && (
        <div className="jp-CourseTracker-checkProgress" role="status">
          <progress value={check.done} max={Math.max(check.total, 1)} />
          <span>
            {check.step || check.status} ({check.done}/{check.total})
          </span>
        </div>
      )}
      {check?.status === 'failed' && <CheckFailure message={check.message} />}
      {check?.status === 'done' && (
        <div className="jp-CourseTracker-checkResult">
          <span className="jp-CourseTracker-checkDone">
            Checked{check.finished ? ` at ${formatTime(check.finished)}` : ''}
          </span>
          {check.message && <span className="jp-CourseTracker-detail">{check.message}</span>}
          <ul>
            {(check.results ?? []).map(result => (
              <li key={result.notebook}>
                <span>{result.notebook}</span>{' '}
                <span className="jp-CourseTracker-score">
                  {formatScore(result.score)} / {formatScore(result.max_score)}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/**
 * A failed check's message can carry a whole grader log: show its first sentence, and the rest
 * on demand, so one failure does not push the tracker off the screen.
 */
function CheckFailure({ message }: { message?: string }): JSX.Element {
  const { summary, details } = splitMessage(message ?? 'no reason given');
  return (
    <div className="jp-CourseTracker-checkFailed" role="alert">
      <div>Check failed: {summary}</div>
      {details && (
        <details className="jp-CourseTracker-checkLog">
          <summary>Show the details</summary>
          <pre>{details}</pre>
        </details>
      )}
    </div>
  );
}

const SUMMARY_LENGTH = 200;

/** The first line or sentence of a message, and the whole message when that was not all. */
export function splitMessage(message: string): { summary: string; details: string | null } {
  const text = message.trim();
  const newline = text.indexOf('\n');
  const sentence = text.search(/[.:]\s/);
  let cut = text.length;
  if (newline >= 0) {
    cut = newline;
  }
  if (sentence >= 0 && sentence + 1 < cut) {
    cut = sentence + 1;
  }
  if (cut > SUMMARY_LENGTH) {
    cut = SUMMARY_LENGTH;
  }
  if (cut >= text.length) {
    return { summary: text, details: null };
  }
  const summary = text.slice(0, cut).trim();
  return { summary: cut === SUMMARY_LENGTH ? `${summary}…` : summary, details: text };
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}
