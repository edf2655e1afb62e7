import React from 'react';

import { INotice } from '../model';

export interface IErrorBannerProps {
  title: string;
  message: string;
  onRetry?: () => void;
}

/** Says what failed and offers a retry, so the panel is never silently blank. */
export function ErrorBanner({ title, message, onRetry }: IErrorBannerProps): JSX.Element {
  return (
    <div className="jp-CourseTracker-banner jp-CourseTracker-banner-error" role="alert">
      <div className="jp-CourseTracker-bannerText">
        <strong>{title}</strong> <span>{message}</span>
      </div>
      {onRetry && (
        <button className="jp-CourseTracker-button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export interface INoticesProps {
  notices: readonly INotice[];
  onDismiss: (id: number) => void;
}

/** Messages about the learner's own actions (a save refused, a conflict), each dismissible. */
export function Notices({ notices, onDismiss }: INoticesProps): JSX.Element | null {
  if (notices.length === 0) {
    return null;
  }
  return (
    <div className="jp-CourseTracker-notices">
      {notices.map(notice => (
        <div
          key={notice.id}
          className={`jp-CourseTracker-banner jp-CourseTracker-banner-${notice.kind}`}
          role={notice.kind === 'error' ? 'alert' : 'status'}
        >
          <span className="jp-CourseTracker-bannerText">{notice.message}</span>
          <button
            className="jp-CourseTracker-iconButton"
            aria-label="Dismiss"
            title="Dismiss"
            onClick={() => onDismiss(notice.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
