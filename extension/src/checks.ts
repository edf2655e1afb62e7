/**
 * "Check my work" jobs: starting a check, following it until it ends, and remembering the latest
 * check of each assignment. One concern of the sidebar's state; `TrackerModel` owns one and feeds
 * it the checks the server reports with every tracker poll.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { TrackerApiError } from './api';
import {
  BeforeCheck,
  Check,
  ICheckJobsModel,
  isFinished,
  ISavedVersion,
  ITrackerApi,
  Tracker
} from './tokens';

/** Give up following a check after this many failed progress requests in a row. */
const MAX_CHECK_ERRORS = 5;

export interface ICheckJobsOptions {
  api: ITrackerApi;
  /** Milliseconds between progress requests while a check runs. */
  checkInterval?: number;
  /** Tell the learner something went wrong. */
  notify: (kind: 'error', message: string) => void;
  /** Called when a check finished with new grades (the owner refreshes the tracker). */
  onGraded: () => Promise<void>;
  /** Save the assignment's open notebooks first (the app sets it; see `setBeforeCheck`). */
  beforeCheck?: BeforeCheck;
}

export class CheckJobsModel implements ICheckJobsModel, IDisposable {
  constructor(options: ICheckJobsOptions) {
    this._api = options.api;
    this._checkInterval = options.checkInterval ?? 1000;
    this._notify = options.notify;
    this._onGraded = options.onGraded;
    this._beforeCheck = options.beforeCheck ?? null;
  }

  /** Save unsaved notebooks before every check (the plugin wires it to the document manager). */
  setBeforeCheck(beforeCheck: BeforeCheck | null): void {
    this._beforeCheck = beforeCheck;
  }

  /** What was saved before the latest check of an assignment started from this page. */
  savedVersion(assignment: string): ISavedVersion | null {
    return this._saved.get(assignment) ?? null;
  }

  /**
   * Seconds the check has been running, now: the server's `elapsed` when it sent one (its clock,
   * not this browser's), advanced by the time since that answer arrived.
   */
  elapsed(check: Check, now: number = Date.now()): number {
    if (typeof check.elapsed === 'number') {
      const received = this._received.get(check.id) ?? now;
      const extra = isFinished(check) ? 0 : Math.max(0, now - received) / 1000;
      return check.elapsed + extra;
    }
    const end = check.finished ? Date.parse(check.finished) : now;
    const seconds = (end - Date.parse(check.started)) / 1000;
    return Number.isFinite(seconds) ? Math.max(0, seconds) : 0;
  }

  /** Emitted whenever a check starts, moves on or ends. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The latest check of an assignment (running or finished), if any. */
  check(assignment: string): Check | undefined {
    return this._checks.get(assignment);
  }

  /** True from pressing "Check my work" until the check finished. */
  isChecking(assignment: string): boolean {
    const check = this._checks.get(assignment);
    return this._starting.has(assignment) || (check !== undefined && !isFinished(check));
  }

  /** Start "Check my work" for an assignment and follow it until it is done. */
  async startCheck(assignment: string): Promise<Check | null> {
    if (this.isChecking(assignment)) {
      return this._checks.get(assignment) ?? null;
    }
    this._starting.add(assignment);
    this._changed.emit();
    let check: Check;
    if (this._beforeCheck) {
      // Grade what the learner sees: unsaved edits would otherwise be silently left out.
      try {
        this._saved.set(assignment, await this._beforeCheck(assignment));
      } catch (error) {
        this._starting.delete(assignment);
        this._notify(
          'error',
          `Your notebooks could not be saved, so ${assignment} was not checked: ${messageOf(error)}`
        );
        this._changed.emit();
        return null;
      }
    } else {
      this._saved.delete(assignment);
    }
    try {
      check = await this._api.startCheck(assignment);
    } catch (error) {
      this._notify('error', `Could not start the check of ${assignment}: ${messageOf(error)}`);
      return null;
    } finally {
      this._starting.delete(assignment);
      this._changed.emit();
    }
    this._set(check);
    return this._follow(check);
  }

  /** Take in the latest checks a tracker poll reports (one per assignment). */
  applyTracker(tracker: Tracker): void {
    for (const assignment of tracker.assignments) {
      const last = assignment.last_check;
      if (!last) {
        continue;
      }
      const known = this._checks.get(assignment.id);
      // Show the server's latest check unless we already follow a newer one ourselves.
      const followedNewer =
        known !== undefined && known.id !== last.id && known.started > last.started;
      if (!followedNewer && !(known?.id === last.id && this._following.has(last.id))) {
        this._received.set(last.id, Date.now());
        this._checks.set(assignment.id, last);
      }
      // A check started before a page reload (or in another tab) is still running: follow it.
      if (!isFinished(last) && !this._following.has(last.id)) {
        void this._follow(last);
      }
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _follow(check: Check): Promise<Check> {
    this._following.add(check.id);
    let current = check;
    let failures = 0;
    try {
      while (!isFinished(current) && !this._isDisposed) {
        await sleep(this._checkInterval);
        if (this._isDisposed) {
          break;
        }
        try {
          current = await this._api.getCheck(current.id);
          failures = 0;
        } catch (error) {
          failures += 1;
          const gone = error instanceof TrackerApiError && error.status === 404;
          if (gone || failures >= MAX_CHECK_ERRORS) {
            current = {
              ...current,
              status: 'failed',
              message: gone
                ? 'The server no longer knows this check (was it restarted?). Press the button again.'
                : `Lost track of the check: ${messageOf(error)}`
            };
          }
        }
        this._set(current);
      }
    } finally {
      this._following.delete(check.id);
    }
    if (current.status === 'done' && !this._isDisposed) {
      // New grades: fetch the ticked items.
      await this._onGraded();
    }
    return current;
  }

  private _set(check: Check): void {
    this._received.set(check.id, Date.now());
    this._checks.set(check.assignment, check);
    this._changed.emit();
  }

  private _api: ITrackerApi;
  private _checkInterval: number;
  private _notify: ICheckJobsOptions['notify'];
  private _onGraded: ICheckJobsOptions['onGraded'];
  private _beforeCheck: BeforeCheck | null;
  private _checks = new Map<string, Check>();
  private _saved = new Map<string, ISavedVersion>();
  /** When (browser clock, ms) the latest state of each check arrived. */
  private _received = new Map<string, number>();
  private _starting = new Set<string>();
  private _following = new Set<string>();
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
