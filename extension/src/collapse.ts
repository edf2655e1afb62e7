/**
 * Remembers which tracker sections the learner collapsed, across page reloads.
 *
 * Collapse state is a view preference, not progress, so it lives in the browser (localStorage)
 * rather than in the server's per-learner store.
 */

export interface ICollapseStore {
  get(key: string): boolean;
  set(key: string, collapsed: boolean): void;
}

const PREFIX = 'jupyterlab-course-tracker:collapsed:';

/** Backed by `window.localStorage`; falls back to memory when storage is unavailable. */
export class LocalCollapseStore implements ICollapseStore {
  get(key: string): boolean {
    try {
      return window.localStorage.getItem(PREFIX + key) === '1';
    } catch {
      // Storage can be disabled (private windows, strict cookie settings): use memory instead.
      return this._memory.get(key) ?? false;
    }
  }

  set(key: string, collapsed: boolean): void {
    this._memory.set(key, collapsed);
    try {
      if (collapsed) {
        window.localStorage.setItem(PREFIX + key, '1');
      } else {
        window.localStorage.removeItem(PREFIX + key);
      }
    } catch {
      // See get(): memory already holds the value.
    }
  }

  private _memory = new Map<string, boolean>();
}

/** Memory only; used by tests and as a safe default. */
export class MemoryCollapseStore implements ICollapseStore {
  get(key: string): boolean {
    return this._values.get(key) ?? false;
  }

  set(key: string, collapsed: boolean): void {
    this._values.set(key, collapsed);
  }

  private _values = new Map<string, boolean>();
}
