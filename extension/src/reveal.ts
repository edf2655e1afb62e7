/**
 * Open a notebook at one graded cell: what a per-test result links to. nbgrader names each graded
 * cell in its metadata (`nbgrader.grade_id`), which survives the learner's edits and reordering.
 */

/** The parts of a `NotebookPanel` this needs (kept structural so the module stays light). */
export interface INotebookLike {
  readonly context?: { readonly ready: Promise<void> };
  readonly revealed?: Promise<void>;
  readonly content?: {
    readonly widgets: ReadonlyArray<{
      readonly model: { getMetadata(key: string): unknown };
    }>;
    activeCellIndex: number;
    scrollToCell(cell: unknown, alignPreference?: 'start' | 'center' | 'end' | 'auto'): Promise<void>;
  };
}

/** The index of the cell with this grade id, or -1. */
export function findGradedCell(notebook: NonNullable<INotebookLike['content']>, gradeId: string): number {
  return notebook.widgets.findIndex(cell => {
    const meta = cell.model.getMetadata('nbgrader') as { grade_id?: unknown } | undefined;
    return meta?.grade_id === gradeId;
  });
}

/**
 * Make the graded cell the active one and scroll it into view. Returns false when the widget is
 * not a notebook or has no such cell (it was deleted): the notebook is open either way.
 */
export async function revealGradedCell(widget: unknown, gradeId: string): Promise<boolean> {
  const panel = widget as INotebookLike | undefined;
  const notebook = panel?.content;
  if (!panel || !notebook || !Array.isArray(notebook.widgets) || !panel.context) {
    return false;
  }
  await panel.context.ready;
  if (panel.revealed) {
    await panel.revealed;
  }
  const index = findGradedCell(notebook, gradeId);
  if (index < 0) {
    return false;
  }
  notebook.activeCellIndex = index;
  await notebook.scrollToCell(notebook.widgets[index], 'start');
  return true;
}
