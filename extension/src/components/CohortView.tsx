/**
 * The instructor's cohort view: a header (counts, refresh, CSV export) over four parts — the score
 * distribution of each assignment, the test cells most students fail (with their messages), the
 * submissions waiting for grading, and the students × tracker items table.
 */
import React, { useState } from 'react';

import { CohortModel } from '../cohort';
import { CohortDistributions } from './CohortDistributions';
import { CohortFailing } from './CohortFailing';
import { CohortMatrix } from './CohortMatrix';
import { CohortUngraded } from './CohortUngraded';
import { useModel } from './useModel';

/** Save `text` as a file the browser downloads (a Blob link, clicked and released). */
export function downloadText(filename: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export const CSV_FILENAME = 'cohort.csv';

export interface ICohortViewProps {
  model: CohortModel;
  /** Where the CSV goes (default: a browser download); tests pass a recorder. */
  download?: (filename: string, text: string) => void;
}

export function CohortView({ model, download = downloadText }: ICohortViewProps): JSX.Element {
  useModel(model);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const report = model.report;

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      download(CSV_FILENAME, await model.exportCsv());
    } catch (error) {
      setExportError(error instanceof Error ? error.message : String(error));
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="jp-CourseCohort">
      <div className="jp-CourseCohort-header">
        <h2 className="jp-CourseCohort-title">Cohort{report ? ` — ${report.course_id}` : ''}</h2>
        {report && (
          <span className="jp-CourseCohort-counts">
            {report.students.length} students · {report.ungraded.length} waiting for grading ·{' '}
            {report.shared_by.length} sharing their progress
          </span>
        )}
        <span className="jp-CourseCohort-actions">
          <button
            className="jp-mod-styled jp-CourseCohort-button"
            onClick={() => void model.refresh()}
            title="Read the gradebook again"
          >
            Refresh
          </button>
          <button
            className="jp-mod-styled jp-mod-accept jp-CourseCohort-button"
            onClick={() => void exportCsv()}
            disabled={exporting || !report}
            title="Download the students × items table as cohort.csv"
          >
            {exporting ? 'Exporting…' : 'Export CSV'}
          </button>
        </span>
      </div>
      {model.error && (
        <div className="jp-CourseCohort-error" role="alert">
          {report ? 'Could not refresh the cohort (showing the last report): ' : ''}
          {model.error}
        </div>
      )}
      {exportError && (
        <div className="jp-CourseCohort-error" role="alert">
          Could not export the CSV: {exportError}
        </div>
      )}
      {!report && model.status === 'loading' && (
        <div className="jp-CourseCohort-loading">Reading the gradebook…</div>
      )}
      {report && (
        <>
          <CohortDistributions distributions={report.distributions} />
          <CohortFailing model={model} failing={report.failing} />
          <CohortUngraded ungraded={report.ungraded} />
          <CohortMatrix report={report} />
        </>
      )}
    </div>
  );
}
