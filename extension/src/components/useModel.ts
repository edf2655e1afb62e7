import { useEffect, useState } from 'react';

import { TrackerModel } from '../model';

/** Re-render the calling component whenever the model says something changed. */
export function useModel(model: TrackerModel): void {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
}
