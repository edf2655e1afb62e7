/**
 * Before "Check my work": save the assignment's open notebooks that have unsaved edits, and find
 * out which version of them the check grades (the newest save). The check grades the files on
 * disk, so an unsaved edit would otherwise be left out without a word.
 */
import { AssignmentInfo, ISavedVersion, Tracker } from './tokens';

/** An open document as the document manager knows it (a `DocumentRegistry.Context`). */
export interface IOpenDocument {
  /** Server path, without a drive prefix. */
  readonly path: string;
  readonly dirty: boolean;
  save(): Promise<void>;
}

/** What the check needs of the contents service: a file's `last_modified`. */
export interface IModifiedTimes {
  get(path: string, options: { content: false }): Promise<{ last_modified?: string }>;
}

/**
 * The folder (relative to the server root) that holds an assignment's notebooks: where its items'
 * `notebook_path` points, else a folder named after the assignment (the workspace layout).
 */
export function assignmentFolder(tracker: Tracker | null, assignment: string): string {
  if (tracker) {
    for (const section of tracker.sections) {
      for (const group of section.groups) {
        for (const item of group.items) {
          const path = item.assignment === assignment ? tracker.states[item.id]?.notebook_path : undefined;
          if (path && path.includes('/')) {
            return path.slice(0, path.lastIndexOf('/'));
          }
        }
      }
    }
  }
  return assignment;
}

/** Server paths of an assignment's notebooks. */
export function notebookPaths(folder: string, assignment: AssignmentInfo): string[] {
  return assignment.notebooks.map(name => `${folder}/${name}.ipynb`);
}

/**
 * Save every open document of `folder` that has unsaved edits, then read when each of the
 * assignment's notebooks was last saved. A failed save rejects: grading an older version than
 * the learner sees is what this exists to prevent.
 */
export async function saveBeforeCheck(
  documents: Iterable<IOpenDocument>,
  folder: string,
  notebooks: readonly string[],
  contents: IModifiedTimes
): Promise<ISavedVersion> {
  const prefix = `${folder}/`;
  const saved: string[] = [];
  const seen = new Set<string>();
  for (const doc of documents) {
    if (seen.has(doc.path) || !doc.path.startsWith(prefix) || !doc.dirty) {
      continue;
    }
    seen.add(doc.path);
    try {
      await doc.save();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`saving ${doc.path} failed (${reason})`);
    }
    saved.push(doc.path);
  }
  let newest: number | null = null;
  for (const path of notebooks) {
    try {
      const model = await contents.get(path, { content: false });
      const time = model.last_modified ? Date.parse(model.last_modified) : NaN;
      if (Number.isFinite(time) && (newest === null || time > newest)) {
        newest = time;
      }
    } catch {
      // A notebook the learner has not got (or deleted): nothing of it to grade.
    }
  }
  return { saved, savedAt: newest === null ? null : new Date(newest).toISOString() };
}
