/**
 * The instructor's cohort view: its wire types (the server's `nbcourse.tracker.cohort` report)
 * and the model the view renders. The model polls GET /course-tracker/cohort through `TrackerApi`
 * (api.ts) and reads the grouped failure messages of one test cell on demand.
 *
 * Only an instructor's server answers; a student's answers 403, and the cohort plugin asks once,
 * at start-up, so that a student's JupyterLab never shows the command at all.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { TrackerApiError } from './api';
import { messageOf } from './checks';

/** One cell of the students × items table. `private`: an entered item the student did not share. */
export type CohortCellStatus =
  | 'graded'
  | 'not_graded'
  | 'private'
  | 'shared'
  | 'not_attempted'
  | 'self_check_passed';

export interface ICohortCell {
  status: CohortCellStatus;
  satisfied?: boolean;
  score?: number;
  max_score?: number;
  detail?: string;
  /** A shared self/choice/text item's value. */
  value?: boolean | string | null;
}

export interface ICohortItem {
  id: string;
  kind: string;
  text: string;
  assignment: string | null;
  notebook: string | null;
}

export interface ICohortDistribution {
  assignment: string;
  title: string;
  /** Students with at least one graded notebook of the assignment. */
  graded: number;
  max_score: number;
  mean: number | null;
  median: number | null;
  /** Counts of total scores in equal bins over [0, max_score]. */
  histogram: number[];
}

export interface ICohortFailing {
  assignment: string;
  notebook: string;
  grade_id: string;
  failed: number;
  graded: number;
  students: string[];
}

export interface ICohortUngraded {
  student: string;
  assignment: string;
  submitted: string | null;
  reason: string;
}

/** GET /course-tracker/cohort. */
export interface ICohort {
  course_id: string;
  students: string[];
  items: ICohortItem[];
  /** The report's distinct cells, each once (a cohort has few distinct outcomes per item). */
  cells: ICohortCell[];
  /** student → for each item, in `items` order, the index of the student's cell in `cells`. */
  matrix: Record<string, number[]>;
  distributions: ICohortDistribution[];
  failing: ICohortFailing[];
  ungraded: ICohortUngraded[];
  shared_by: string[];
}

export interface IFailureMessage {
  message: string;
  count: number;
}

/** GET /course-tracker/cohort/failures/<assignment>/<notebook>/<grade_id>. */
export interface ICohortFailures {
  assignment: string;
  notebook: string;
  grade_id: string;
  failed: number;
  graded: number;
  messages: IFailureMessage[];
  /** How many autograded notebooks were read for the messages (a sample in a big cohort). */
  read: number;
}

/** The part of the REST API the cohort view uses (`TrackerApi` implements it; tests pass a fake). */
export interface ICohortApi {
  getCohort(): Promise<ICohort>;
  getCohortFailures(assignment: string, notebook: string, gradeId: string): Promise<ICohortFailures>;
  exportCohortCsv(): Promise<string>;
}

/** Whose server this is, as the cohort endpoint says: 200 instructor, 403 student. */
export type CohortRole = 'instructor' | 'student';

/**
 * Ask the server once whether this user may see the cohort view. Resolves with the first report
 * too, so the view can show it without a second request. Anything but 200 or 403 (server down,
 * a proxy error) is thrown: the caller cannot tell the role and must not guess "instructor".
 */
export async function probeCohort(
  api: ICohortApi
): Promise<{ role: CohortRole; report: ICohort | null }> {
  try {
    return { role: 'instructor', report: await api.getCohort() };
  } catch (error) {
    if (error instanceof TrackerApiError && error.status === 403) {
      return { role: 'student', report: null };
    }
    throw error;
  }
}

/** One student's cell of one item (by its index in `report.items`); undefined if not in the report. */
export function cohortCell(report: ICohort, student: string, itemIndex: number): ICohortCell | undefined {
  const index = report.matrix[student]?.[itemIndex];
  return index === undefined ? undefined : report.cells[index];
}

/** `key` of a failing test cell: where it is, as the failures endpoint takes it. */
export function failingKey(cell: Pick<ICohortFailing, 'assignment' | 'notebook' | 'grade_id'>): string {
  return `${cell.assignment}/${cell.notebook}/${cell.grade_id}`;
}

export type CohortStatus = 'loading' | 'ready' | 'error';

/** The messages of one failing test cell, while they load and once they have. */
export type FailuresState =
  | { status: 'loading' }
  | { status: 'ready'; failures: ICohortFailures }
  | { status: 'error'; message: string };

export interface ICohortModelOptions {
  api: ICohortApi;
  /** A report already fetched (by the role probe): shown at once, the first poll waits. */
  initial?: ICohort | null;
  /** Seconds between refreshes (grading adds results while the view is open). */
  pollInterval?: number;
  autoStart?: boolean;
}

/** A cohort is re-read every minute at most: the server rebuilds only when the gradebook changed. */
export const COHORT_POLL_SECONDS = 60;

export class CohortModel {
  constructor(options: ICohortModelOptions) {
    this._api = options.api;
    this._report = options.initial ?? null;
    this._status = this._report ? 'ready' : 'loading';
    const interval = Math.max(5, options.pollInterval ?? COHORT_POLL_SECONDS) * 1000;
    this._poll = new Poll({
      auto: false,
      factory: () => this._fetch(),
      frequency: { interval, backoff: true, max: Math.max(interval * 10, 600_000) },
      name: 'course-tracker:cohort',
      standby: 'when-hidden'
    });
    if (options.autoStart ?? true) {
      this.start();
    }
  }

  /** Emitted whenever anything the view shows changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get status(): CohortStatus {
    return this._status;
  }

  get report(): ICohort | null {
    return this._report;
  }

  /** Why the last refresh failed (the last good report stays shown), or null. */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Begin polling: at once without an initial report, else after one interval. */
  start(): void {
    if (this._report) {
      void this._poll.schedule({ interval: this._poll.frequency.interval, phase: 'started' });
    } else {
      void this._poll.start();
    }
  }

  /** Fetch the report now; resolves once the answer (or the failure) has been applied. */
  async refresh(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    await this._poll.refresh();
    await this._poll.tick;
  }

  /** The messages of one failing test cell (`failingKey`), or undefined before `loadFailures`. */
  failures(key: string): FailuresState | undefined {
    return this._failures.get(key);
  }

  /** Read the grouped messages of a failing test cell (once; a refresh of the report clears them). */
  async loadFailures(cell: ICohortFailing): Promise<void> {
    const key = failingKey(cell);
    const known = this._failures.get(key);
    if (known && known.status !== 'error') {
      return;
    }
    this._failures.set(key, { status: 'loading' });
    this._changed.emit();
    let state: FailuresState;
    try {
      const failures = await this._api.getCohortFailures(cell.assignment, cell.notebook, cell.grade_id);
      state = { status: 'ready', failures };
    } catch (error) {
      state = { status: 'error', message: messageOf(error) };
    }
    if (!this._isDisposed) {
      this._failures.set(key, state);
      this._changed.emit();
    }
  }

  /** The students × items table as CSV, from the server (the same file as GET /cohort.csv). */
  exportCsv(): Promise<string> {
    return this._api.exportCohortCsv();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _fetch(): Promise<void> {
    try {
      const report = await this._api.getCohort();
      if (this._isDisposed) {
        return;
      }
      if (this._report && !sameFailing(this._report, report)) {
        this._failures.clear();
      }
      this._report = report;
      this._error = null;
      this._status = 'ready';
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      this._error = messageOf(error);
      this._status = this._report ? 'ready' : 'error';
      this._changed.emit();
      throw error; // lets the poll back off
    }
    this._changed.emit();
  }

  private _api: ICohortApi;
  private _poll: Poll;
  private _report: ICohort | null;
  private _status: CohortStatus;
  private _error: string | null = null;
  private _failures = new Map<string, FailuresState>();
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

/** Failure messages stay valid while every failing cell still fails as many students. */
function sameFailing(a: ICohort, b: ICohort): boolean {
  const counts = (report: ICohort) =>
    report.failing.map(f => `${failingKey(f)}:${f.failed}/${f.graded}`).join('|');
  return counts(a) === counts(b);
}
