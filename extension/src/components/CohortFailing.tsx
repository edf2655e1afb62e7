/** The test cells most students fail; each expands to its failure messages, grouped. */
import React, { useState } from 'react';

import { CohortModel, failingKey, ICohortFailing } from '../cohort';

/** Students named under an expanded test before "and N more". */
const STUDENTS_SHOWN = 25;

export function CohortFailing({
  model,
  failing
}: {
  model: CohortModel;
  failing: ICohortFailing[];
}): JSX.Element {
  return (
    <section className="jp-CourseCohort-section" aria-label="Most-failed tests">
      <h3 className="jp-CourseCohort-sectionTitle">Tests most students fail</h3>
      {failing.length === 0 ? (
        <p className="jp-CourseCohort-muted">No graded test cell has failed.</p>
      ) : (
        <ul className="jp-CourseCohort-failing">
          {failing.map(f => (
            <FailingTest key={failingKey(f)} model={model} cell={f} />
          ))}
        </ul>
      )}
    </section>
  );
}

function FailingTest({ model, cell }: { model: CohortModel; cell: ICohortFailing }): JSX.Element {
  const [open, setOpen] = useState(false);
  const key = failingKey(cell);
  const state = model.failures(key);
  const share = cell.graded ? Math.round((cell.failed / cell.graded) * 100) : 0;
  const toggle = () => {
    if (!open) {
      void model.loadFailures(cell);
    }
    setOpen(!open);
  };
  return (
    <li className="jp-CourseCohort-failingTest" data-failing={key}>
      <button className="jp-CourseCohort-failingToggle" aria-expanded={open} onClick={toggle}>
        <span className="jp-CourseCohort-caret">{open ? '▾' : '▸'}</span>
        <code>{cell.grade_id}</code>
        <span className="jp-CourseCohort-muted">
          {' '}
          {cell.assignment} / {cell.notebook}
        </span>
        <span className="jp-CourseCohort-failedShare">
          {cell.failed} of {cell.graded} failed ({share}%)
        </span>
      </button>
      {open && (
        <div className="jp-CourseCohort-failingDetail">
          {(state === undefined || state.status === 'loading') && (
            <p className="jp-CourseCohort-muted">Reading the autograded notebooks…</p>
          )}
          {state?.status === 'error' && (
            <p className="jp-CourseCohort-error" role="alert">
              {state.message}
            </p>
          )}
          {state?.status === 'ready' && (
            <>
              {state.failures.messages.length === 0 ? (
                <p className="jp-CourseCohort-muted">
                  No error message in the autograded notebooks (the test lost points without
                  raising, or the notebooks are not on this server).
                </p>
              ) : (
                <ul className="jp-CourseCohort-messages">
                  {state.failures.messages.map(m => (
                    <li key={m.message}>
                      <span className="jp-CourseCohort-messageCount">×{m.count}</span>
                      <code className="jp-CourseCohort-message">{m.message}</code>
                    </li>
                  ))}
                </ul>
              )}
              {state.failures.read < cell.failed && (
                <p className="jp-CourseCohort-muted">
                  Messages from {state.failures.read} of the {cell.failed} notebooks.
                </p>
              )}
            </>
          )}
          <p className="jp-CourseCohort-students">
            {cell.students.slice(0, STUDENTS_SHOWN).join(', ')}
            {cell.students.length > STUDENTS_SHOWN &&
              ` and ${cell.students.length - STUDENTS_SHOWN} more`}
          </p>
        </div>
      )}
    </li>
  );
}
