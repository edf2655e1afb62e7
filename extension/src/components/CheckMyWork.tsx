/**
 * "Check my work" for one assignment: saves the learner's open notebooks, grades the workspace
 * copy with the course's tests (hidden ones included) and shows what happens in words, with the
 * elapsed time, then every test cell's verdict, linked to the cell.
 */
import React, { useEffect, useState } from 'react';

import { TrackerModel } from '../model';
import { assignmentFolder } from '../save';
import {
  AssignmentInfo,
  CellResult,
  Check,
  isFinished,
  ISavedVersion,
  NotebookResult
} from '../tokens';
import { ITrackerActions } from './actions';
import { StatusIcon } from './icons';
import { formatScore } from './ItemRow';

export interface ICheckMyWorkProps {
  model: TrackerModel;
  assignment: AssignmentInfo;
  actions: ITrackerActions;
}

export function CheckMyWork({ model, assignment, actions }: ICheckMyWorkProps): JSX.Element | null {
  const check = model.checks.check(assignment.id);
  const busy = model.checks.isChecking(assignment.id);
  if (assignment.available === false) {
    return (
      <div className="jp-CourseTracker-check jp-CourseTracker-comingSoon" data-assignment={assignment.id}>
        <span className="jp-CourseTracker-checkTitle">{assignment.title}</span>
        <span className="jp-CourseTracker-status jp-CourseTracker-status-coming_soon">coming soon</span>
      </div>
    );
  }
  if (!assignment.checkable && !check) {
    return null;
  }
  const running = check !== undefined && !isFinished(check);
  const saved = model.checks.savedVersion(assignment.id);
  const folder = assignmentFolder(model.tracker, assignment.id);
  return (
    <div className="jp-CourseTracker-check" data-assignment={assignment.id}>
      <div className="jp-CourseTracker-checkHead">
        {assignment.checkable && (
          <button
            className="jp-CourseTracker-button jp-CourseTracker-checkButton"
            disabled={busy}
            title={`Save and grade your ${assignment.title} notebooks with the course's tests`}
            onClick={() => void model.checks.startCheck(assignment.id)}
          >
            {busy ? 'Checking…' : 'Check my work'}
          </button>
        )}
        {!busy && <AssignmentBadge assignment={assignment} />}
      </div>
      {running && <CheckProgress model={model} check={check} saved={saved} />}
      {check?.status === 'failed' && <CheckFailure message={check.message} />}
      {check?.status === 'done' && (
        <div className="jp-CourseTracker-checkResult">
          <span className="jp-CourseTracker-checkDone">
            Checked{check.finished ? ` at ${formatTime(check.finished)}` : ''}
            {` in ${formatDuration(model.checks.elapsed(check))}`}
          </span>
          <SavedVersion saved={saved} />
          {check.message && <span className="jp-CourseTracker-detail">{check.message}</span>}
          <ul className="jp-CourseTracker-notebookResults">
            {(check.results ?? []).map(result => (
              <NotebookResultView
                key={result.notebook}
                result={result}
                path={`${folder}/${result.notebook}.ipynb`}
                actions={actions}
              />
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** The assignment's state as a learner reads it: green only when every point is earned. */
function AssignmentBadge({ assignment }: { assignment: AssignmentInfo }): JSX.Element | null {
  const state = assignment.state;
  if (!state || state === 'coming_soon') {
    return null;
  }
  const scored = typeof assignment.score === 'number' && typeof assignment.max_score === 'number';
  const score = scored ? `${formatScore(assignment.score!)} / ${formatScore(assignment.max_score!)}` : '';
  const label: Record<typeof state, string> = {
    not_started: 'not started',
    started: 'started',
    graded: score ? `${score} points` : 'graded',
    complete: score ? `all ${formatScore(assignment.max_score!)} points` : 'complete'
  };
  const tone =
    state === 'complete'
      ? 'complete'
      : state === 'graded'
        ? (assignment.score ?? 0) > 0
          ? 'partial'
          : 'zero'
        : state;
  return (
    <span
      className={`jp-CourseTracker-status jp-CourseTracker-status-${tone}`}
      data-state={state}
      title={state === 'graded' ? 'Graded: some tests do not pass yet' : undefined}
    >
      {label[state]}
    </span>
  );
}

/** Old servers send their internal step names; these are what they mean to a learner. */
const STEP_WORDS: Record<string, string> = {
  queued: 'Waiting for another check to finish',
  copy: 'Saving a copy of your work',
  prepare: 'Preparing the grader',
  autograde: 'Grading your notebooks',
  generate_feedback: 'Writing feedback',
  results: 'Reading your results',
  running: 'Starting'
};

export function stepLabel(check: Check): string {
  const step = check.step || check.status;
  return STEP_WORDS[step] ?? step;
}

/** Re-render every second while mounted (for the elapsed time). */
function useTicker(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function CheckProgress({
  model,
  check,
  saved
}: {
  model: TrackerModel;
  check: Check;
  saved: ISavedVersion | null;
}): JSX.Element {
  const now = useTicker();
  return (
    <div className="jp-CourseTracker-checkProgress" role="status">
      <div className="jp-CourseTracker-checkStep">
        <span className="jp-CourseTracker-stepLabel">{stepLabel(check)}…</span>
        <span className="jp-CourseTracker-elapsed" title="time since the check started">
          {formatDuration(model.checks.elapsed(check, now))}
        </span>
      </div>
      <progress value={check.done} max={Math.max(check.total, 1)} />
      {check.notebooks && check.notebooks.length > 0 && (
        <ul className="jp-CourseTracker-notebookProgress">
          {check.notebooks.map(nb => (
            <li key={nb.notebook} data-status={nb.status}>
              <StatusIcon
                kind={
                  nb.status === 'graded' ? 'pass' : nb.status === 'problem' ? 'fail' : nb.status
                }
              />
              <span>{nb.notebook}</span>
              <span className="jp-CourseTracker-detail">
                {nb.status === 'graded' && typeof nb.seconds === 'number'
                  ? formatDuration(nb.seconds)
                  : nb.status}
              </span>
            </li>
          ))}
        </ul>
      )}
      <SavedVersion saved={saved} />
    </div>
  );
}

/** Which version of the notebooks the check grades. */
function SavedVersion({ saved }: { saved: ISavedVersion | null }): JSX.Element | null {
  if (!saved || !saved.savedAt) {
    return null;
  }
  const names = saved.saved.map(path => path.slice(path.lastIndexOf('/') + 1));
  return (
    <div className="jp-CourseTracker-savedVersion">
      Graded your notebooks as saved at {formatTime(saved.savedAt)}
      {names.length > 0 && ` (unsaved edits of ${names.join(', ')} were saved first)`}
    </div>
  );
}

function NotebookResultView({
  result,
  path,
  actions
}: {
  result: NotebookResult;
  path: string;
  actions: ITrackerActions;
}): JSX.Element {
  const tests = result.cells.filter(cell => cell.kind === undefined || cell.kind === 'test');
  const manual = result.cells.length - tests.length;
  return (
    <li className="jp-CourseTracker-notebookResult" data-notebook={result.notebook}>
      <div className="jp-CourseTracker-itemRow">
        <button
          className="jp-CourseTracker-link jp-CourseTracker-itemText"
          title={`Open ${path}`}
          onClick={() => actions.openPath(path)}
        >
          {result.notebook}
        </button>
        <span className="jp-CourseTracker-score">
          {formatScore(result.score)} / {formatScore(result.max_score)}
        </span>
      </div>
      {result.problem && <div className="jp-CourseTracker-cellMessage">{result.problem}</div>}
      {tests.length > 0 && (
        <ul className="jp-CourseTracker-cellResults">
          {tests.map(cell => (
            <CellResultView key={cell.grade_id} cell={cell} path={path} actions={actions} />
          ))}
        </ul>
      )}
      {manual > 0 && (
        <div className="jp-CourseTracker-detail">
          {manual} written answer{manual === 1 ? '' : 's'} to be graded by your instructor
        </div>
      )}
    </li>
  );
}

function cellPassed(cell: CellResult): boolean {
  return typeof cell.passed === 'boolean' ? cell.passed : cell.score >= cell.max_score;
}

function CellResultView({
  cell,
  path,
  actions
}: {
  cell: CellResult;
  path: string;
  actions: ITrackerActions;
}): JSX.Element {
  const passed = cellPassed(cell);
  return (
    <li
      className={`jp-CourseTracker-cellResult jp-CourseTracker-cell-${passed ? 'passed' : 'failed'}`}
      data-grade-id={cell.grade_id}
      data-passed={passed ? 'true' : 'false'}
    >
      <div className="jp-CourseTracker-itemRow">
        <StatusIcon kind={passed ? 'pass' : 'fail'} />
        <button
          className="jp-CourseTracker-link jp-CourseTracker-cellLink"
          title={`Show this test cell in ${path}`}
          onClick={() => actions.openCell(path, cell.grade_id)}
        >
          {cell.grade_id}
        </button>
        <span className="jp-CourseTracker-cellVerdict">{passed ? 'passed' : 'failed'}</span>
        <span className="jp-CourseTracker-score">
          {formatScore(cell.score)} / {formatScore(cell.max_score)}
        </span>
      </div>
      {!passed && cell.message && <div className="jp-CourseTracker-cellMessage">{cell.message}</div>}
    </li>
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

/** "42 s", "3 min 05 s". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  if (whole < 60) {
    return `${whole} s`;
  }
  const minutes = Math.floor(whole / 60);
  return `${minutes} min ${String(whole % 60).padStart(2, '0')} s`;
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
