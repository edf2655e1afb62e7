/**
 * The extension's contracts: the wire types of the course-tracker REST API, the ids it registers,
 * and the `ITrackerModel` token other plugins `require` to use the learner's tracker (as
 * jupyterlab-git does with `IGitExtension`).
 *
 * The wire types mirror docs/architecture.md ("Server extension" → "Wire types") exactly: the
 * server sends these shapes, and nothing else in the frontend should invent fields.
 */
import { IDisposable } from '@lumino/disposable';
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/** The plugin id; also names the settings schema file (`schema/plugin.json`). */
export const PLUGIN_ID = 'jupyterlab-course-tracker:plugin';

/** The DOM id of the sidebar panel (JupyterLab also uses it for the sidebar tab). */
export const PANEL_ID = 'course-tracker-panel';

/** The URL namespace of the server extension, below the server's base URL. */
export const API_NAMESPACE = 'course-tracker';

/** Command ids, shown in the command palette under the "Course" category. */
export namespace CommandIDs {
  export const refresh = 'course-tracker:refresh';
  export const exportMarkdown = 'course-tracker:export';
  export const open = 'course-tracker:open';
}

/** Where the Markdown export is written, relative to the server root. */
export const EXPORT_PATH = 'progress-tracker.md';

export type ItemKind = 'auto' | 'env' | 'self' | 'choice' | 'text' | 'derived';

export interface ItemDef {
  id: string;
  kind: ItemKind;
  text: string;
  /** A step the header's summary counts (auto, env, self; a choice with "done" options). */
  counted: boolean;
  options?: string[];
  multiline?: boolean;
  assignment?: string;
  notebook?: string;
}

export interface Group {
  id: string;
  title: string | null;
  items: ItemDef[];
}

export interface Section {
  id: string;
  title: string;
  groups: Group[];
}

export type AutoStatus = 'not_attempted' | 'self_check_passed' | 'graded';

/** The value a learner can write: `self` items take a boolean, `choice`/`text` a string. */
export type ItemValue = boolean | string;

export interface ItemState {
  id: string;
  satisfied: boolean;
  /** self: bool; choice/text: string; derived: "3 / 5" or a label. */
  value: boolean | string | null;
  /** Store revision of this item (0 = never written). */
  rev: number;
  /** auto: AutoStatus; env: ok/failed. */
  status?: AutoStatus | 'ok' | 'failed';
  score?: number;
  max_score?: number;
  detail?: string;
  /** Relative to the server's base URL. */
  feedback_url?: string;
  /** Path of the learner's notebook, relative to the server root. */
  notebook_path?: string;
  /** auto items: false while the item's assignment is not written yet ("coming soon"). */
  available?: boolean;
  updated?: string;
}

export type CheckStatus = 'queued' | 'running' | 'done' | 'failed';

export interface CellResult {
  grade_id: string;
  score: number;
  max_score: number;
  /** The notebook the cell is in (without `.ipynb`). */
  notebook?: string;
  /** `test` cells are graded by the course's tests; `answer`/`task` cells by a person. */
  kind?: 'test' | 'answer' | 'task';
  /** Test cells: score == max_score; null for cells a person grades. */
  passed?: boolean | null;
  /** A failed test's message (never the hidden test's source); null otherwise. */
  message?: string | null;
}

export interface NotebookResult {
  notebook: string;
  score: number;
  max_score: number;
  /** Why the notebook could not be graded fully ("timed out after 60 s", "the kernel died"). */
  problem?: string;
  cells: CellResult[];
}

/** Machine names of a check's steps (never shown; `Check.step` is the learner's label). */
export type CheckStepId =
  | 'queued'
  | 'copy'
  | 'prepare'
  | 'grade'
  | 'feedback'
  | 'results'
  | 'done'
  | 'failed';

/** Where one notebook of a running check is. */
export interface NotebookProgress {
  notebook: string;
  status: 'waiting' | 'running' | 'graded' | 'problem';
  /** Its grading wall time, once graded. */
  seconds?: number;
}

export interface Check {
  id: string;
  assignment: string;
  status: CheckStatus;
  /** What happens now, in words for the learner ("Grading 01_exercises (2 of 3)"). */
  step: string;
  step_id?: CheckStepId;
  done: number;
  total: number;
  started: string;
  /** Seconds since the check started, frozen once it finished. */
  elapsed?: number;
  finished?: string;
  /** Notebooks executing right now. */
  running?: string[];
  notebooks?: NotebookProgress[];
  results?: NotebookResult[];
  message?: string;
}

/** How far the learner is with an assignment (the server decides). */
export type AssignmentState = 'coming_soon' | 'not_started' | 'started' | 'graded' | 'complete';

export interface AssignmentInfo {
  id: string;
  title: string;
  notebooks: string[];
  checkable: boolean;
  /** False while the assignment is not written yet: shown as "coming soon", no actions. */
  available?: boolean;
  state?: AssignmentState;
  /** Totals over the graded notebooks, when graded. */
  score?: number;
  max_score?: number;
  last_check?: Check;
}

export type ResultsSource = 'gradebook' | 'feedback' | 'none';

export interface Tracker {
  course_id: string;
  title: string;
  student: string;
  results_source: ResultsSource;
  role?: 'student' | 'instructor';
  /** False when "Check my work" is turned off for this course (the button is hidden). */
  check_my_work?: boolean;
  /** Whether the learner shares their ticks and texts with the instructor (off by default). */
  sharing?: boolean;
  sections: Section[];
  states: Record<string, ItemState>;
  assignments: AssignmentInfo[];
  /** Trackable items only (auto, env, self, and choices that mean done): never text fields. */
  summary: { satisfied: number; total: number };
}

/** The body of a 409 answer to `PUT items/<id>`: the server's current state of the item. */
export interface ConflictBody {
  message: string;
  state: ItemState;
}

/** True for check states that will not change any more. */
export function isFinished(check: Check): boolean {
  return check.status === 'done' || check.status === 'failed';
}

/** Every item of a tracker with the section and group it sits in, in manifest order. */
export interface IItemPlace {
  section: Section;
  group: Group;
  item: ItemDef;
}

/** The one walk over sections → groups → items. */
export function* walkItems(sections: readonly Section[]): Generator<IItemPlace> {
  for (const section of sections) {
    for (const group of section.groups) {
      for (const item of group.items) {
        yield { section, group, item };
      }
    }
  }
}

/** The items of one section, in order. */
export function sectionItems(section: Section): ItemDef[] {
  return Array.from(walkItems([section]), place => place.item);
}

/** The REST API as one object (`api.ts` implements it; tests pass a fake). */
export interface ITrackerApi {
  getTracker(): Promise<Tracker>;
  setItem(id: string, value: ItemValue, rev: number): Promise<ItemState>;
  startCheck(assignment: string): Promise<Check>;
  getCheck(id: string): Promise<Check>;
  exportMarkdown(): Promise<string>;
  /** Turn sharing with the instructor on or off (servers without it leave this out). */
  setSharing?(share: boolean): Promise<ISharingAnswer>;
}

/** The answer to `PUT sharing`: the new setting and the shared files written or removed. */
export interface ISharingAnswer {
  sharing: boolean;
  written: string[];
}

/** `loading` until the first answer, `error` when there is no tracker to show, else `ready`. */
export type ModelStatus = 'loading' | 'ready' | 'error';

/** What became of one edit. */
export type SaveOutcome = 'saved' | 'conflict' | 'error';

export interface INotice {
  id: number;
  kind: 'info' | 'warning' | 'error';
  message: string;
}

/** What was saved before a check, so the learner knows which version was graded. */
export interface ISavedVersion {
  /** Notebooks (server paths) that had unsaved edits and were saved before the check. */
  saved: string[];
  /** ISO time of the newest save among the graded notebooks, when known. */
  savedAt: string | null;
}

/**
 * Runs before a check starts: saves the assignment's open notebooks that have unsaved edits.
 * Rejects (and the check does not start) when a save failed.
 */
export type BeforeCheck = (assignment: string) => Promise<ISavedVersion>;

/** "Check my work" jobs of the learner, one latest check per assignment. */
export interface ICheckJobsModel {
  readonly changed: ISignal<ICheckJobsModel, void>;
  /** The latest check of an assignment (running or finished), if any. */
  check(assignment: string): Check | undefined;
  /** True from pressing "Check my work" until the check finished. */
  isChecking(assignment: string): boolean;
  /** Start a check (or join the running one) and follow it; null when it could not start. */
  startCheck(assignment: string): Promise<Check | null>;
  /** What was saved before the latest check of an assignment started here (null if unknown). */
  savedVersion(assignment: string): ISavedVersion | null;
}

/** The learner's course tracker as the sidebar shows it: what other plugins can build on. */
export interface ITrackerModel extends IDisposable {
  /** Emitted whenever anything the views show changed (checks included). */
  readonly changed: ISignal<ITrackerModel, void>;
  readonly stateChanged: ISignal<ITrackerModel, ModelStatus>;
  readonly status: ModelStatus;
  /** The last tracker the server sent, or null before the first answer. */
  readonly tracker: Tracker | null;
  /** Why the last refresh failed, or null when it succeeded. */
  readonly error: string | null;
  readonly checks: ICheckJobsModel;
  itemDef(id: string): ItemDef | undefined;
  /** The learner's unsaved edit laid over the server's state. */
  itemState(id: string): ItemState | undefined;
  setItem(id: string, value: ItemValue): Promise<SaveOutcome>;
  /** Fetch the tracker now. */
  refresh(): Promise<void>;
}

/** The token of the tracker model the Progress plugin provides. */
export const ITrackerModel = new Token<ITrackerModel>(
  'jupyterlab-course-tracker:ITrackerModel',
  "The learner's course tracker: manifest, item states, and Check my work jobs."
);
