/**
 * Wire types of the course-tracker REST API and the ids this extension registers.
 *
 * The types mirror docs/architecture.md ("Server extension" → "Wire types") exactly: the server
 * sends these shapes, and nothing else in the frontend should invent fields.
 */

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
  updated?: string;
}

export type CheckStatus = 'queued' | 'running' | 'done' | 'failed';

export interface CellResult {
  grade_id: string;
  score: number;
  max_score: number;
}

export interface NotebookResult {
  notebook: string;
  score: number;
  max_score: number;
  cells: CellResult[];
}

export interface Check {
  id: string;
  assignment: string;
  status: CheckStatus;
  step: string;
  done: number;
  total: number;
  started: string;
  finished?: string;
  results?: NotebookResult[];
  message?: string;
}

export interface AssignmentInfo {
  id: string;
  title: string;
  notebooks: string[];
  checkable: boolean;
  last_check?: Check;
}

export type ResultsSource = 'gradebook' | 'feedback' | 'none';

export interface Tracker {
  course_id: string;
  title: string;
  student: string;
  results_source: ResultsSource;
  sections: Section[];
  states: Record<string, ItemState>;
  assignments: AssignmentInfo[];
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
