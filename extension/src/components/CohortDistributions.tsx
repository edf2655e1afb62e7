/** Per-assignment score distributions: a histogram of the students' total scores. */
import React from 'react';

import { ICohortDistribution } from '../cohort';
import { formatScore } from './ItemRow';

export function CohortDistributions({
  distributions
}: {
  distributions: ICohortDistribution[];
}): JSX.Element {
  return (
    <section className="jp-CourseCohort-section" aria-label="Score distributions">
      <h3 className="jp-CourseCohort-sectionTitle">Score distribution per assignment</h3>
      <div className="jp-CourseCohort-distributions">
        {distributions.map(d => (
          <Histogram key={d.assignment} distribution={d} />
        ))}
      </div>
    </section>
  );
}

function Histogram({ distribution: d }: { distribution: ICohortDistribution }): JSX.Element {
  const highest = Math.max(1, ...d.histogram);
  const width = d.histogram.length ? d.max_score / d.histogram.length : 0;
  return (
    <figure className="jp-CourseCohort-histogram" data-assignment={d.assignment}>
      <figcaption>
        <strong>{d.title}</strong>
        <span className="jp-CourseCohort-muted">
          {d.graded === 0
            ? ' no graded submissions'
            : ` ${d.graded} graded · mean ${formatScore(round(d.mean))} · median ${formatScore(
                round(d.median)
              )} of ${formatScore(d.max_score)}`}
        </span>
      </figcaption>
      <div className="jp-CourseCohort-bars" role="img" aria-label={`${d.title}: ${d.histogram.join(', ')}`}>
        {d.histogram.map((count, i) => (
          <div
            key={i}
            className="jp-CourseCohort-bar"
            title={`${formatScore(round(i * width))}–${formatScore(round((i + 1) * width))} points: ${count} students`}
          >
            <span className="jp-CourseCohort-barCount">{count || ''}</span>
            <span className="jp-CourseCohort-barFill" style={{ height: `${(count / highest) * 100}%` }} />
          </div>
        ))}
      </div>
      <div className="jp-CourseCohort-axis">
        <span>0</span>
        <span>{formatScore(d.max_score)}</span>
      </div>
    </figure>
  );
}

function round(value: number | null): number {
  return value === null ? 0 : Math.round(value * 10) / 10;
}
