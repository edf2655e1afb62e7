/** Submissions on disk the gradebook has not graded (or graded an older version of). */
import React from 'react';

import { ICohortUngraded } from '../cohort';

export function CohortUngraded({ ungraded }: { ungraded: ICohortUngraded[] }): JSX.Element {
  return (
    <section className="jp-CourseCohort-section" aria-label="Waiting for grading">
      <h3 className="jp-CourseCohort-sectionTitle">Submissions not yet graded ({ungraded.length})</h3>
      {ungraded.length === 0 ? (
        <p className="jp-CourseCohort-muted">Every collected submission is graded.</p>
      ) : (
        <table className="jp-CourseCohort-table jp-CourseCohort-ungraded">
          <thead>
            <tr>
              <th>Student</th>
              <th>Assignment</th>
              <th>Submitted</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {ungraded.map(u => (
              <tr key={`${u.student}/${u.assignment}`}>
                <td>{u.student}</td>
                <td>{u.assignment}</td>
                <td>{u.submitted ? new Date(u.submitted).toLocaleString() : 'unknown'}</td>
                <td>{u.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
