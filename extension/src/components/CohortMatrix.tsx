/**
 * Students × tracker items. Auto items come from the gradebook; self, choice and text items are
 * private unless the student shared them, so their columns are hidden until asked for.
 */
import React, { useMemo, useState } from 'react';

import { ICohort, ICohortCell, ICohortItem, cohortCell } from '../cohort';
import { formatScore } from './ItemRow';

const ALL = '';
const MAX_CELLS_AT_ONCE = 20_000;

/** What a cell shows, its class and its tooltip. */
export function describeCell(cell: ICohortCell | undefined): {
  text: string;
  className: string;
  title: string;
} {
  if (!cell || cell.status === 'not_graded' || cell.status === 'not_attempted') {
    return { text: '–', className: 'jp-mod-none', title: 'not graded' };
  }
  if (cell.status === 'private') {
    return { text: '·', className: 'jp-mod-private', title: 'private (not shared by the student)' };
  }
  if (cell.status === 'shared') {
    const value = cell.value;
    const text = typeof value === 'boolean' ? (value ? '✓' : '✗') : String(value ?? '');
    return {
      text: text.length > 24 ? `${text.slice(0, 23)}…` : text,
      className: `jp-mod-shared ${cell.satisfied ? 'jp-mod-pass' : ''}`,
      title: `shared: ${text}`
    };
  }
  const pass = cell.satisfied === true;
  const text =
    cell.score !== undefined && cell.max_score !== undefined
      ? `${formatScore(cell.score)}/${formatScore(cell.max_score)}`
      : pass
        ? '✓'
        : '✗';
  return {
    text,
    className: pass ? 'jp-mod-pass' : 'jp-mod-fail',
    title: cell.detail ?? (pass ? 'done' : 'not done')
  };
}

function columnLabel(item: ICohortItem): string {
  const parts = item.id.split('.');
  return parts.slice(1).join('.') || item.id;
}

export function CohortMatrix({ report }: { report: ICohort }): JSX.Element {
  const assignments = useMemo(
    () => Array.from(new Set(report.items.map(i => i.assignment).filter((a): a is string => !!a))),
    [report]
  );
  // A big cohort opens on one assignment: all of them at once is tens of thousands of cells.
  const [assignment, setAssignment] = useState(() =>
    report.students.length * report.items.filter(i => i.kind === 'auto').length > MAX_CELLS_AT_ONCE
      ? (assignments[0] ?? ALL)
      : ALL
  );
  const [withShared, setWithShared] = useState(false);
  const [filter, setFilter] = useState('');

  const modulePrefix = prefixOf(report, assignment);
  const indexOf = useMemo(() => new Map(report.items.map((item, index) => [item.id, index])), [report]);
  const columns = report.items.filter(item => {
    if (item.kind !== 'auto') {
      return withShared && (assignment === ALL || item.id.startsWith(modulePrefix));
    }
    return assignment === ALL || item.assignment === assignment;
  });
  const needle = filter.trim().toLowerCase();
  const students = report.students.filter(s => !needle || s.toLowerCase().includes(needle));

  return (
    <section className="jp-CourseCohort-section" aria-label="Students and tracker items">
      <h3 className="jp-CourseCohort-sectionTitle">Students × tracker items</h3>
      <div className="jp-CourseCohort-controls">
        <label>
          Assignment{' '}
          <select value={assignment} onChange={e => setAssignment(e.target.value)}>
            <option value={ALL}>All assignments</option>
            {assignments.map(a => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={withShared} onChange={e => setWithShared(e.target.checked)} />{' '}
          Items students enter (shown where they shared them: {report.shared_by.length})
        </label>
        <label>
          Student{' '}
          <input
            type="search"
            value={filter}
            placeholder="filter"
            onChange={e => setFilter(e.target.value)}
          />
        </label>
        <span className="jp-CourseCohort-muted">
          {students.length} of {report.students.length} students · {columns.length} items
        </span>
      </div>
      <div className="jp-CourseCohort-tableWrap">
        <table className="jp-CourseCohort-table jp-CourseCohort-matrix">
          <thead>
            <tr>
              <th className="jp-CourseCohort-student">Student</th>
              <th title="Items done of those shown">Done</th>
              {columns.map(item => (
                <th key={item.id} title={`${item.id}: ${item.text}`} data-item-id={item.id}>
                  {columnLabel(item)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {students.map(student => {
              const cells = columns.map(item => cohortCell(report, student, indexOf.get(item.id) ?? -1));
              const done = cells.filter(cell => cell?.satisfied === true).length;
              return (
                <tr key={student} data-student={student}>
                  <th className="jp-CourseCohort-student" scope="row">
                    {student}
                  </th>
                  <td className="jp-CourseCohort-done">
                    {done}/{columns.length}
                  </td>
                  {columns.map((item, at) => {
                    const cell = describeCell(cells[at]);
                    return (
                      <td key={item.id} className={`jp-CourseCohort-cell ${cell.className}`} title={cell.title}>
                        {cell.text}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/**
 * The item-id prefix of an assignment's module ("m1." for m1_data_engineering), so the entered
 * items of the same module show with it. Taken from its auto items' ids.
 */
function prefixOf(report: ICohort, assignment: string): string {
  const auto = report.items.find(i => i.assignment === assignment);
  const head = auto?.id.split('.')[0];
  return head ? `${head}.` : '\u0000';
}
