/**
 * The tracker state of the Progress sidebar: the tracker fetched from the server and the
 * learner's edits on their way to it. The "Check my work" jobs are `checks` (checks.ts).
 *
 * Three kinds of state meet here, and keeping them apart is what makes the panel trustworthy:
 * - `confirmed`: what the server last said about each item (only ever moves forward by `rev`);
 * - `pending`: edits the learner made that the server has not answered yet (shown immediately —
 *   an optimistic update — and rolled back if the server refuses them);
 * - the tracker's structure (sections, assignments, summary), replaced by every poll.
 * What the views show for an item is `pending` laid over `confirmed`, so a poll that arrives while
 * the learner is typing never overwrites their words.
 */
import { Contents } from '@jupyterlab/services';
import { Debouncer, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { TrackerApiError } from './api';
import { CheckJobsModel, messageOf } from './checks';
import { ICollapseStore, MemoryCollapseStore } from './collapse';
import {
  INotice,
  ItemDef,
  ItemState,
  ItemValue,
  ITrackerApi,
  ITrackerModel,
  ModelStatus,
  SaveOutcome,
  Tracker,
  walkItems
} from './tokens';

export type { INotice, ModelStatus, SaveOutcome } from './tokens';

export interface ITrackerModelOptions {
  /** The server API (a `TrackerApi` on the app's server settings); tests pass a fake. */
  api: ITrackerApi;
  /** Seconds between tracker refreshes (the `pollInterval` setting). */
  pollInterval?: number;
  /** Milliseconds between progress requests while a check runs. */
  checkInterval?: number;
  /** Milliseconds to wait before refreshing after a save (coalesces bursts of saves). */
  refreshDelay?: number;
  collapseStore?: ICollapseStore;
  /** Start polling immediately (default true). */
  autoStart?: boolean;
}

/** The smallest poll interval the settings schema allows, in seconds. */
export const MIN_POLL_INTERVAL = 5;

/** Item kinds a learner writes; the others are computed by the server. */
const WRITABLE_KINDS = new Set(['self', 'choice', 'text']);

/** Keep only the latest notices; older ones are no longer useful. */
const MAX_NOTICES = 4;

export class TrackerModel implements ITrackerModel {
  constructor(options: ITrackerModelOptions) {
    this._api = options.api;
    this.checks = new CheckJobsModel({
      api: options.api,
      checkInterval: options.checkInterval,
      notify: (kind, message) => this._notify(kind, message),
      onGraded: () => this.refresh()
    });
    this.checks.changed.connect(() => this._changed.emit(), this);
    this._collapse = options.collapseStore ?? new MemoryCollapseStore();
    const interval = secondsToMs(options.pollInterval ?? 30);
    this._poll = new Poll({
      auto: false,
      factory: () => this._fetch(),
      // Back off (up to the max) while the server keeps failing, so a stopped server is not
      // hammered; the first success returns to the normal interval.
      frequency: { interval, backoff: true, max: maxInterval(interval) },
      name: 'course-tracker:tracker',
      standby: 'when-hidden'
    });
    this._refreshSoon = new Debouncer(() => this.refresh(), options.refreshDelay ?? 500);
    if (options.autoStart ?? true) {
      this.start();
    }
  }

  /** "Check my work" jobs; their changes are announced by `changed` too. */
  readonly checks: CheckJobsModel;

  /** Emitted whenever anything the views show changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when `status` changes (loading → ready, ready → error, ...). */
  get stateChanged(): ISignal<this, ModelStatus> {
    return this._stateChanged;
  }

  get status(): ModelStatus {
    return this._status;
  }

  /** The last tracker the server sent, or null before the first answer. */
  get tracker(): Tracker | null {
    return this._tracker;
  }

  /** Why the last refresh failed, or null when it succeeded. */
  get error(): string | null {
    return this._error;
  }

  get notices(): readonly INotice[] {
    return this._notices;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Seconds between refreshes. */
  get pollInterval(): number {
    return this._poll.frequency.interval / 1000;
  }

  set pollInterval(seconds: number) {
    const interval = secondsToMs(seconds);
    this._poll.frequency = { interval, backoff: true, max: maxInterval(interval) };
  }

  /** Begin polling (the first request goes out immediately). */
  start(): void {
    void this._poll.start();
  }

  /** Fetch the tracker now; resolves once the answer (or the failure) has been applied. */
  async refresh(): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    await this._poll.refresh();
    // `tick` settles when the poll schedules its next run, i.e. after this fetch finished.
    await this._poll.tick.catch(() => undefined);
  }

  /** Refresh a little later; repeated calls in quick succession cause one request. */
  scheduleRefresh(): void {
    if (!this._isDisposed) {
      void this._refreshSoon.invoke();
    }
  }

  /** Refresh whenever a file is saved (e.g. a notebook the tracker reads results from). */
  watchSaves(fileChanged: ISignal<unknown, Contents.IChangedArgs>): void {
    fileChanged.connect(this._onFileChanged, this);
    this._saveSignals.push(fileChanged);
  }

  /** The definition of an item, from the manifest. */
  itemDef(id: string): ItemDef | undefined {
    return this._defs.get(id);
  }

  /** What to show for an item: the learner's unsaved edit laid over the server's state. */
  itemState(id: string): ItemState | undefined {
    const confirmed = this._confirmed.get(id);
    const pending = this._pending.get(id);
    if (!pending) {
      return confirmed;
    }
    const def = this._defs.get(id);
    return {
      ...(confirmed ?? { id, rev: 0 }),
      value: pending.value,
      satisfied: def ? optimisticSatisfied(def, pending.value, confirmed) : false
    };
  }

  /** True while an edit of the item is on its way to the server. */
  isSaving(id: string): boolean {
    return this._pending.has(id);
  }

  /**
   * Change a `self`, `choice` or `text` item. The new value shows at once; the returned promise
   * says whether the server kept it. Edits of one item are sent one after another, each based on
   * the revision the previous one produced, so fast typing never conflicts with itself.
   */
  setItem(id: string, value: ItemValue): Promise<SaveOutcome> {
    const def = this._defs.get(id);
    if (!def) {
      return Promise.reject(new Error(`Unknown tracker item "${id}".`));
    }
    if (!WRITABLE_KINDS.has(def.kind)) {
      return Promise.reject(
        new Error(`Item "${id}" is a ${def.kind} item; only self, choice and text items can be set.`)
      );
    }
    const seq = ++this._writeSeq;
    this._pending.set(id, { value, seq });
    this._changed.emit();

    // Send at once when the item is idle; otherwise after the edit already on its way.
    const previous = this._queues.get(id);
    const write = previous
      ? previous.then(() => this._write(def, value, seq))
      : this._write(def, value, seq);
    this._queues.set(id, write);
    void write.then(() => {
      if (this._queues.get(id) === write) {
        this._queues.delete(id);
      }
    });
    return write;
  }

  isCollapsed(sectionId: string): boolean {
    return this._collapse.get(this._collapseKey(sectionId));
  }

  toggleCollapsed(sectionId: string): void {
    const key = this._collapseKey(sectionId);
    this._collapse.set(key, !this._collapse.get(key));
    this._changed.emit();
  }

  dismissNotice(id: number): void {
    this._notices = this._notices.filter(n => n.id !== id);
    this._changed.emit();
  }

  /** True while a change of the sharing setting is on its way to the server. */
  get isSavingSharing(): boolean {
    return this._sharingPending !== null;
  }

  /** The sharing setting to show: the learner's choice while it is saved, else the server's. */
  get sharing(): boolean | undefined {
    return this._sharingPending ?? this._tracker?.sharing;
  }

  /**
   * Share the learner's ticks and texts with the instructor, or stop sharing. The server writes
   * (or removes) the shared files; the tracker is fetched again to show its setting.
   */
  async setSharing(share: boolean): Promise<boolean> {
    if (!this._api.setSharing || this._sharingPending !== null) {
      return false;
    }
    this._sharingPending = share;
    this._changed.emit();
    try {
      await this._api.setSharing(share);
      await this.refresh();
      return true;
    } catch (error) {
      this._notify('error', `Could not ${share ? 'turn on' : 'turn off'} sharing: ${messageOf(error)}`);
      return false;
    } finally {
      this._sharingPending = null;
      this._changed.emit();
    }
  }

  /** The filled tracker as Markdown. */
  exportMarkdown(): Promise<string> {
    return this._api.exportMarkdown();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    this._refreshSoon.dispose();
    this.checks.dispose();
    for (const signal of this._saveSignals) {
      signal.disconnect(this._onFileChanged, this);
    }
    Signal.clearData(this);
  }

  private async _fetch(): Promise<void> {
    const started = ++this._clock;
    try {
      const tracker = await this._api.getTracker();
      if (this._isDisposed) {
        return;
      }
      this._applyTracker(tracker, started);
      this._error = null;
      this._setStatus('ready');
      this._changed.emit();
    } catch (error) {
      if (this._isDisposed) {
        return;
      }
      this._error = messageOf(error);
      // Keep showing the last good tracker; only an empty panel turns into an error state.
      this._setStatus(this._tracker ? 'ready' : 'error');
      this._changed.emit();
      throw error; // tells the poll to back off
    }
  }

  /** `started`: the clock when the request left, to recognise answers older than a write. */
  private _applyTracker(tracker: Tracker, started: number): void {
    this._tracker = tracker;
    this._defs.clear();
    for (const { item } of walkItems(tracker.sections)) {
      this._defs.set(item.id, item);
    }
    for (const [id, state] of Object.entries(tracker.states)) {
      const known = this._confirmed.get(id);
      // A poll that left before one of our writes landed carries an older revision: the answer
      // to the write is newer, keep it. Otherwise the server is right, even about a lower
      // revision (its store may have been reset).
      const writtenSince = (this._confirmedAt.get(id) ?? 0) > started;
      if (!known || !writtenSince || state.rev >= known.rev) {
        this._confirmed.set(id, state);
      }
    }
    this.checks.applyTracker(tracker);
  }

  private async _write(def: ItemDef, value: ItemValue, seq: number): Promise<SaveOutcome> {
    const id = def.id;
    const base = this._confirmed.get(id);
    const latest = () => this._pending.get(id)?.seq === seq;
    try {
      const state = await this._api.setItem(id, value, base?.rev ?? 0);
      this._confirm(state);
      if (latest()) {
        this._pending.delete(id);
      }
      this._changed.emit();
      // Derived counts and the summary depend on this item: fetch them again.
      this.scheduleRefresh();
      return 'saved';
    } catch (error) {
      const conflict = error instanceof TrackerApiError ? error.conflictState : null;
      if (latest()) {
        // Roll back to the server's state: the one it sent with the conflict, or the last known.
        this._pending.delete(id);
      }
      if (conflict) {
        this._confirm(conflict);
        const lost = typeof value === 'string' && value ? ` Your unsaved text was: “${value}”` : '';
        this._notify(
          'warning',
          `“${plain(def.text)}” was changed somewhere else (another tab or window?), so this ` +
            `edit was not saved and the saved value is shown.${lost}`
        );
        return 'conflict';
      }
      this._notify('error', `Could not save “${plain(def.text)}”: ${messageOf(error)}`);
      return 'error';
    }
  }

  /** Record the server's answer to a write (edits of one item are answered in order). */
  private _confirm(state: ItemState): void {
    this._confirmed.set(state.id, state);
    this._confirmedAt.set(state.id, ++this._clock);
  }

  private _notify(kind: INotice['kind'], message: string): void {
    const notice = { id: ++this._noticeSeq, kind, message };
    this._notices = [...this._notices, notice].slice(-MAX_NOTICES);
    this._changed.emit();
  }

  private _setStatus(status: ModelStatus): void {
    if (status !== this._status) {
      this._status = status;
      this._stateChanged.emit(status);
    }
  }

  private _collapseKey(sectionId: string): string {
    return `${this._tracker?.course_id ?? 'course'}:${sectionId}`;
  }

  private _onFileChanged(_: unknown, change: Contents.IChangedArgs): void {
    if (change.type === 'save') {
      this.scheduleRefresh();
    }
  }

  private _api: ITrackerApi;
  private _collapse: ICollapseStore;
  private _poll: Poll;
  private _refreshSoon: Debouncer;
  private _status: ModelStatus = 'loading';
  private _tracker: Tracker | null = null;
  private _error: string | null = null;
  private _defs = new Map<string, ItemDef>();
  private _confirmed = new Map<string, ItemState>();
  /** When (on `_clock`) a write answer last set an item's confirmed state. */
  private _confirmedAt = new Map<string, number>();
  /** Orders fetches and write answers, to tell which of them is newer. */
  private _clock = 0;
  private _pending = new Map<string, { value: ItemValue; seq: number }>();
  private _queues = new Map<string, Promise<SaveOutcome>>();
  private _writeSeq = 0;
  private _sharingPending: boolean | null = null;
  private _notices: INotice[] = [];
  private _noticeSeq = 0;
  private _saveSignals: ISignal<unknown, Contents.IChangedArgs>[] = [];
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, ModelStatus>(this);
}

/** The server decides; until it answers, guess the obvious (the answer replaces the guess). */
function optimisticSatisfied(def: ItemDef, value: ItemValue, confirmed?: ItemState): boolean {
  switch (def.kind) {
    case 'self':
      return value === true;
    case 'text':
      return typeof value === 'string' && value.trim() !== '';
    case 'choice':
      // Which options satisfy a choice is the server's knowledge; keep its last verdict when the
      // value did not change, else assume any chosen option counts (the default rule).
      return confirmed && confirmed.value === value ? confirmed.satisfied : value !== '';
    default:
      return confirmed?.satisfied ?? false;
  }
}

function secondsToMs(seconds: number): number {
  if (!Number.isFinite(seconds)) {
    throw new Error(`pollInterval must be a number of seconds, got ${seconds}.`);
  }
  return Math.max(MIN_POLL_INTERVAL, seconds) * 1000;
}

/** While the server fails, back off to at most ten intervals, and at least five minutes. */
function maxInterval(interval: number): number {
  return Math.max(interval * 10, 300_000);
}

/** Item text without Markdown markers, for messages. */
function plain(text: string): string {
  return text.replace(/\*\*|`/g, '');
}
