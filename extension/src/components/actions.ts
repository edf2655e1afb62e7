/**
 * What the views ask the application to do. The widget wires these to JupyterLab (commands,
 * server URLs); tests pass spies.
 */
export interface ITrackerActions {
  /** Open a file (path relative to the server root) in the main area. */
  openPath(path: string): void;
  /** Turn a URL relative to the server's base URL into one the browser can follow. */
  resolveUrl(relative: string): string;
  /** Open a notebook (path relative to the server root) at the cell with this nbgrader grade id. */
  openCell(path: string, gradeId: string): void;
  /** Export the filled tracker as Markdown. */
  exportMarkdown(): void;
}
