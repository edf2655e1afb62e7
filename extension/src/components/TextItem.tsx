/**
 * A free-text item, saved as the learner types.
 *
 * The draft lives in this component, not in the model: a save is sent once typing pauses for
 * `delay` ms, and the server's value replaces the draft only when nothing the learner typed is
 * still waiting to be sent. A poll that lands mid-sentence therefore cannot eat a word.
 */
import React, { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

import { TrackerModel } from '../model';
import { ItemDef } from '../tokens';

export type SaveIndicator = 'idle' | 'pending' | 'saving' | 'saved' | 'error' | 'conflict';

const INDICATOR_TEXT: Record<SaveIndicator, string> = {
  idle: '',
  pending: 'editing…',
  saving: 'saving…',
  saved: 'saved',
  error: 'not saved',
  conflict: 'changed elsewhere'
};

export interface ITextItemProps {
  model: TrackerModel;
  def: ItemDef;
  /** Milliseconds of quiet before the draft is saved. */
  delay: number;
}

function serverText(model: TrackerModel, id: string): string {
  const value = model.itemState(id)?.value;
  return typeof value === 'string' ? value : '';
}

/** Set a textarea's height to its content's (never below its `rows`). */
function fitHeight(element: HTMLTextAreaElement | null): void {
  if (!element) {
    return;
  }
  element.style.height = 'auto';
  // jsdom (tests) lays nothing out: keep the natural height there.
  if (element.scrollHeight > 0) {
    const border = element.offsetHeight - element.clientHeight;
    element.style.height = `${element.scrollHeight + Math.max(0, border)}px`;
  }
}

export function TextItem({ model, def, delay }: ITextItemProps): JSX.Element {
  const server = serverText(model, def.id);
  const [draft, setDraft] = useState(server);
  const [indicator, setIndicator] = useState<SaveIndicator>('idle');
  const draftRef = useRef(draft);
  const lastSent = useRef(server);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const inFlight = useRef(0);
  const focused = useRef(false);
  const mounted = useRef(true);

  const adopt = useCallback((value: string) => {
    draftRef.current = value;
    lastSent.current = value;
    setDraft(value);
  }, []);

  // The server's value changed (first load, another tab): take it unless the learner is typing
  // or has words on their way to the server.
  useEffect(() => {
    const idle = timer.current === null && inFlight.current === 0;
    if (idle && !focused.current && server !== lastSent.current) {
      adopt(server);
    }
  }, [server, adopt]);

  const flush = useCallback(async () => {
    if (timer.current !== null) {
      clearTimeout(timer.current);
      timer.current = null;
    }
    const value = draftRef.current;
    if (value === lastSent.current) {
      if (inFlight.current === 0 && mounted.current) {
        setIndicator(current => (current === 'pending' ? 'saved' : current));
      }
      return;
    }
    lastSent.current = value;
    inFlight.current += 1;
    if (mounted.current) {
      setIndicator('saving');
    }
    let outcome: SaveIndicator;
    try {
      outcome = await model.setItem(def.id, value);
    } catch {
      outcome = 'error';
    }
    inFlight.current -= 1;
    if (!mounted.current) {
      return;
    }
    if (outcome === 'conflict') {
      // The model told the learner (with their text); show what the server kept.
      adopt(serverText(model, def.id));
    } else if (outcome === 'error') {
      // Keep the draft so nothing is lost; the next keystroke (or blur) tries again.
      lastSent.current = serverText(model, def.id);
    }
    if (timer.current === null && inFlight.current === 0) {
      setIndicator(outcome);
    }
  }, [model, def.id, adopt]);

  // Send what is left when the panel closes.
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      if (timer.current !== null) {
        void flush();
      }
    };
  }, [flush]);

  // Grow with the text, so a long answer is read whole rather than scrolled or cut off.
  const box = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    fitHeight(box.current);
  }, [draft]);

  const onChange = (event: React.ChangeEvent<HTMLTextAreaElement>) => {
    // One-line fields (name, aha moments) wrap on screen but hold no line breaks: the server
    // refuses them there, so a pasted newline becomes a space.
    const value = def.multiline ? event.target.value : event.target.value.replace(/\r?\n|\r/g, ' ');
    draftRef.current = value;
    setDraft(value);
    setIndicator('pending');
    if (timer.current !== null) {
      clearTimeout(timer.current);
    }
    timer.current = setTimeout(() => void flush(), delay);
  };

  const onFocus = () => {
    focused.current = true;
  };
  const onBlur = () => {
    focused.current = false;
    // Send what is waiting, or retry what the server refused last time.
    if (timer.current !== null || draftRef.current !== lastSent.current) {
      void flush();
    } else if (inFlight.current === 0 && server !== lastSent.current) {
      adopt(server);
    }
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (!def.multiline && event.key === 'Enter') {
      event.preventDefault();
    }
  };

  return (
    <div className="jp-CourseTracker-text">
      <textarea
        ref={box}
        rows={def.multiline ? 3 : 1}
        className={`jp-CourseTracker-textInput${def.multiline ? '' : ' jp-CourseTracker-textInput-line'}`}
        value={draft}
        onChange={onChange}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
        onBlur={onBlur}
        aria-label={def.text}
        data-item-id={def.id}
      />
      <span
        className={`jp-CourseTracker-saveState jp-CourseTracker-saveState-${indicator}`}
        aria-live="polite"
      >
        {INDICATOR_TEXT[indicator]}
      </span>
    </div>
  );
}
