import { ISignal } from '@lumino/signaling';
import { useEffect, useState } from 'react';

/** Anything that says when it changed: the tracker model, the cohort model. */
export interface IChanging {
  readonly changed: ISignal<any, void>;
}

/** Re-render the calling component whenever the model says something changed. */
export function useModel(model: IChanging): void {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}
