/**
 * Status icons drawn as inline SVG in the theme's colours: they look the same on every machine,
 * with or without an emoji or symbol font (text glyphs such as ✓ or 📚 render as boxes where the
 * font is missing).
 */
import React from 'react';

export type StatusKind = 'pass' | 'fail' | 'waiting' | 'running' | 'open';

const PATHS: Record<StatusKind, JSX.Element> = {
  // a tick
  pass: <path d="M3.5 8.5l3 3 6-7" fill="none" strokeWidth="2" strokeLinecap="round" />,
  // a cross
  fail: <path d="M4.5 4.5l7 7M11.5 4.5l-7 7" fill="none" strokeWidth="2" strokeLinecap="round" />,
  // an empty ring
  waiting: <circle cx="8" cy="8" r="5" fill="none" strokeWidth="1.5" />,
  open: <circle cx="8" cy="8" r="5" fill="none" strokeWidth="1.5" />,
  // a ring with a quarter filled: in progress
  running: (
    <>
      <circle cx="8" cy="8" r="5" fill="none" strokeWidth="1.5" />
      <path d="M8 3a5 5 0 0 1 5 5H8z" strokeWidth="0" />
    </>
  )
};

export function StatusIcon({ kind, title }: { kind: StatusKind | string; title?: string }): JSX.Element {
  const known = (kind in PATHS ? kind : 'waiting') as StatusKind;
  return (
    <svg
      className={`jp-CourseTracker-icon jp-CourseTracker-icon-${known}`}
      viewBox="0 0 16 16"
      width="14"
      height="14"
      role="img"
      aria-label={title ?? known}
      data-icon={known}
    >
      {PATHS[known]}
    </svg>
  );
}

/** The section caret: points right when folded, down when open. */
export function CaretIcon({ open }: { open: boolean }): JSX.Element {
  return (
    <svg
      className="jp-CourseTracker-caret"
      viewBox="0 0 16 16"
      width="12"
      height="12"
      aria-hidden="true"
      style={{ transform: open ? 'rotate(90deg)' : undefined }}
    >
      <path d="M6 3.5l5 4.5-5 4.5z" />
    </svg>
  );
}

/**
 * Section titles begin with a decorative emoji in the course's tracker ("📚 Module 1: …"): drop it
 * in the sidebar (it is kept in the Markdown export) and split off a trailing "(2-3 hours)", so a
 * title fits the sidebar's default width.
 */
export function splitTitle(title: string): { text: string; note: string | null } {
  const text = title.replace(/^(?:\p{Extended_Pictographic}|[\u{1F3FB}-\u{1F3FF}\uFE0F\u200D])+\s*/u, '');
  const match = /^(.*\S)\s*\(([^()]*)\)\s*$/.exec(text);
  return match ? { text: match[1], note: match[2] } : { text, note: null };
}
