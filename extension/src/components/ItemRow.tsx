/**
 * One tracker line. Every kind shows the item's text and whether it is satisfied; what the
 * learner can do with it depends on the kind (see docs/architecture.md, "Item kinds").
 */
import React from 'react';

import { TrackerModel } from '../model';
import { AutoStatus, ItemDef, ItemState } from '../tokens';
import { ITrackerActions } from './actions';
import { StatusIcon } from './icons';
import { InlineMarkdown } from './InlineMarkdown';
import { TextItem } from './TextItem';

export interface IItemRowProps {
  model: TrackerModel;
  def: ItemDef;
  actions: ITrackerActions;
  /** Debounce of text items, in milliseconds. */
  textDelay: number;
}

const AUTO_LABELS: Record<AutoStatus, string> = {
  not_attempted: 'not attempted',
  self_check_passed: 'self-check passed',
  graded: 'graded'
};

export function ItemRow({ model, def, actions, textDelay }: IItemRowProps): JSX.Element {
  const state = model.itemState(def.id);
  const satisfied = state?.satisfied ?? false;
  return (
    <li
      className={`jp-CourseTracker-item jp-CourseTracker-item-${def.kind}${
        satisfied ? ' jp-CourseTracker-satisfied' : ''
      }`}
      data-item-id={def.id}
      data-satisfied={satisfied ? 'true' : 'false'}
    >
      <ItemBody model={model} def={def} state={state} actions={actions} textDelay={textDelay} />
    </li>
  );
}

interface IBodyProps extends IItemRowProps {
  state: ItemState | undefined;
}

function ItemBody(props: IBodyProps): JSX.Element {
  switch (props.def.kind) {
    case 'self':
      return <SelfItem {...props} />;
    case 'choice':
      return <ChoiceItem {...props} />;
    case 'text':
      return (
        <div className="jp-CourseTracker-itemColumn">
          <ItemText def={props.def} />
          <TextItem model={props.model} def={props.def} delay={props.textDelay} />
        </div>
      );
    case 'auto':
      return <AutoItem {...props} />;
    case 'env':
      return <EnvItem {...props} />;
    case 'derived':
      return <DerivedItem {...props} />;
  }
}

function ItemText({ def }: { def: ItemDef }): JSX.Element {
  return (
    <span className="jp-CourseTracker-itemText">
      <InlineMarkdown text={def.text} />
    </span>
  );
}

/** A check mark for items the learner cannot tick themselves. */
function Mark({ satisfied, title }: { satisfied: boolean; title: string }): JSX.Element {
  return (
    <span
      className={`jp-CourseTracker-mark${satisfied ? ' jp-CourseTracker-mark-on' : ''}`}
      title={title}
    >
      <StatusIcon kind={satisfied ? 'pass' : 'open'} title={title} />
    </span>
  );
}

function SelfItem({ model, def, state }: IBodyProps): JSX.Element {
  const checked = state?.value === true;
  return (
    <label className="jp-CourseTracker-itemRow">
      <input
        type="checkbox"
        className="jp-CourseTracker-checkbox"
        checked={checked}
        data-item-id={def.id}
        onChange={event => void model.setItem(def.id, event.target.checked).catch(() => undefined)}
      />
      <ItemText def={def} />
    </label>
  );
}

function ChoiceItem({ model, def, state }: IBodyProps): JSX.Element {
  const value = typeof state?.value === 'string' ? state.value : '';
  const options = def.options ?? [];
  return (
    <div className="jp-CourseTracker-itemColumn">
      <div className="jp-CourseTracker-itemRow">
        <Mark satisfied={state?.satisfied ?? false} title={state?.satisfied ? 'done' : 'open'} />
        <ItemText def={def} />
      </div>
      <select
        className="jp-CourseTracker-select"
        value={value}
        aria-label={def.text}
        data-item-id={def.id}
        onChange={event => void model.setItem(def.id, event.target.value).catch(() => undefined)}
      >
        {value === '' && (
          <option value="" disabled>
            — choose —
          </option>
        )}
        {options.map(option => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * The badge of an auto item, as a learner reads it: green only when every point is earned; a
 * partial score is amber and 0 points is neutral, never a green "graded".
 */
export function autoBadge(state: ItemState | undefined): { label: string; tone: string } {
  const status = (state?.status as AutoStatus | undefined) ?? 'not_attempted';
  if (state?.available === false) {
    return { label: 'coming soon', tone: 'coming_soon' };
  }
  if (status !== 'graded') {
    return { label: AUTO_LABELS[status] ?? status, tone: status };
  }
  const score = state?.score;
  const max = state?.max_score;
  if (typeof score !== 'number' || typeof max !== 'number' || max <= 0) {
    return { label: 'graded', tone: 'partial' };
  }
  if (score >= max) {
    return { label: 'all tests pass', tone: 'complete' };
  }
  return score > 0
    ? { label: 'some tests fail', tone: 'partial' }
    : { label: 'no tests pass yet', tone: 'zero' };
}

function AutoItem({ def, state, actions }: IBodyProps): JSX.Element {
  const status = (state?.status as AutoStatus | undefined) ?? 'not_attempted';
  const graded = status === 'graded';
  const available = state?.available !== false;
  const hasScore = typeof state?.score === 'number' && typeof state?.max_score === 'number';
  // No link to a notebook the learner does not have (the server sends the path only then).
  const path = available ? state?.notebook_path : undefined;
  const badge = autoBadge(state);
  const title = state?.detail ?? badge.label;
  return (
    <div className="jp-CourseTracker-itemColumn">
      <div className="jp-CourseTracker-itemRow">
        <Mark satisfied={state?.satisfied ?? false} title={title} />
        {path ? (
          <button
            className="jp-CourseTracker-link jp-CourseTracker-itemText"
            title={`Open ${path}`}
            onClick={() => actions.openPath(path)}
          >
            <InlineMarkdown text={def.text} />
          </button>
        ) : (
          <ItemText def={def} />
        )}
      </div>
      <div className="jp-CourseTracker-meta">
        <span
          className={`jp-CourseTracker-status jp-CourseTracker-status-${badge.tone}`}
          data-status={available ? status : 'coming_soon'}
        >
          {badge.label}
        </span>
        {available && hasScore && (
          <span className="jp-CourseTracker-score">
            {formatScore(state!.score!)} / {formatScore(state!.max_score!)}
          </span>
        )}
        {available && graded && state?.feedback_url && (
          <a
            className="jp-CourseTracker-feedback"
            href={actions.resolveUrl(state.feedback_url)}
            target="_blank"
            rel="noopener noreferrer"
          >
            feedback
          </a>
        )}
        {available && state?.detail && <span className="jp-CourseTracker-detail">{state.detail}</span>}
      </div>
    </div>
  );
}

function EnvItem({ def, state }: IBodyProps): JSX.Element {
  const status = state?.status === 'ok' || state?.status === 'failed' ? state.status : null;
  return (
    <div className="jp-CourseTracker-itemColumn">
      <div className="jp-CourseTracker-itemRow">
        <Mark satisfied={state?.satisfied ?? false} title={status ?? 'not checked'} />
        <ItemText def={def} />
      </div>
      <div className="jp-CourseTracker-meta">
        <span className={`jp-CourseTracker-status jp-CourseTracker-status-${status ?? 'unknown'}`}>
          {status ?? 'not checked'}
        </span>
        {state?.detail && <span className="jp-CourseTracker-detail">{state.detail}</span>}
      </div>
    </div>
  );
}

function DerivedItem({ def, state }: IBodyProps): JSX.Element {
  const value = state?.value;
  return (
    <div className="jp-CourseTracker-itemRow">
      <Mark satisfied={state?.satisfied ?? false} title="computed from other items" />
      <ItemText def={def} />
      <span className="jp-CourseTracker-derived">
        {value === null || value === undefined ? '–' : String(value)}
      </span>
    </div>
  );
}

/** Scores are floats in nbgrader; show 2.5 as 2.5 and 3.0 as 3. */
export function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2).replace(/0+$/, '');
}
