/**
 * A small tracker in the server's wire format and a fake API, shared by the model and view tests.
 */
import { ITrackerActions } from '../components/actions';
import { Check, ItemState, ItemValue, ITrackerApi, Tracker } from '../tokens';

export const M1 = 'm1_data_engineering';

export function makeTracker(overrides: Partial<Record<string, Partial<ItemState>>> = {}): Tracker {
  const states: Record<string, ItemState> = {
    'overall.modules': { id: 'overall.modules', satisfied: false, value: '1 / 5', rev: 0 },
    'overall.level': { id: 'overall.level', satisfied: false, value: 'Level 1', rev: 0 },
    'profile.name': { id: 'profile.name', satisfied: false, value: '', rev: 0 },
    'setup.python': {
      id: 'setup.python',
      satisfied: true,
      value: null,
      rev: 0,
      status: 'ok',
      detail: 'Python 3.11.9'
    },
    'setup.data': {
      id: 'setup.data',
      satisfied: false,
      value: null,
      rev: 0,
      status: 'failed',
      detail: 'data/pokemon.csv missing'
    },
    'm1.core.ran_all': {
      id: 'm1.core.ran_all',
      satisfied: true,
      value: null,
      rev: 0,
      status: 'graded',
      score: 3,
      max_score: 3,
      feedback_url: 'course-tracker/feedback/m1_data_engineering/01_data_engineering',
      notebook_path: 'm1_data_engineering/01_data_engineering.ipynb'
    },
    'm1.ex.1_1': {
      id: 'm1.ex.1_1',
      satisfied: false,
      value: null,
      rev: 0,
      status: 'not_attempted',
      notebook_path: 'm1_data_engineering/01_exercises.ipynb'
    },
    'm1.socratic.q1': { id: 'm1.socratic.q1', satisfied: false, value: false, rev: 2 },
    'm1.aha': { id: 'm1.aha', satisfied: false, value: '', rev: 0 },
    'level.current': { id: 'level.current', satisfied: false, value: null, rev: 0 }
  };
  for (const [id, patch] of Object.entries(overrides)) {
    states[id] = { ...states[id], ...patch } as ItemState;
  }
  return {
    course_id: 'ml-engineering',
    title: 'ML Engineering Learning Progress Tracker',
    student: 'learner',
    results_source: 'gradebook',
    summary: { satisfied: 2, total: 9 },
    assignments: [
      {
        id: M1,
        title: 'Module 1: Data Engineering Foundations',
        notebooks: ['01_data_engineering', '01_exercises', '01_checkpoint'],
        checkable: true
      }
    ],
    sections: [
      {
        id: 'overall',
        title: '📊 Overall Progress',
        groups: [
          {
            id: 'overall.main',
            title: null,
            items: [
              { id: 'overall.modules', kind: 'derived', counted: false, text: '**Modules Completed**' },
              { id: 'overall.level', kind: 'derived', counted: false, text: '**Current Level**' }
            ]
          }
        ]
      },
      {
        id: 'setup',
        title: '🎯 Pre-Course Setup',
        groups: [
          {
            id: 'setup.main',
            title: null,
            items: [
              { id: 'profile.name', kind: 'text', counted: false, text: '**Your Name**' },
              { id: 'setup.python', kind: 'env', counted: true, text: 'Python 3.10+ installed' },
              { id: 'setup.data', kind: 'env', counted: true, text: 'Dataset generated and verified' }
            ]
          }
        ]
      },
      {
        id: 'm1',
        title: '📚 Module 1: Data Engineering Foundations (2-3 hours)',
        groups: [
          {
            id: 'm1.core',
            title: 'Core Notebook',
            items: [
              {
                id: 'm1.core.ran_all',
                kind: 'auto',
                counted: true,
                text: 'Ran all cells successfully',
                assignment: M1,
                notebook: '01_data_engineering'
              }
            ]
          },
          {
            id: 'm1.ex',
            title: 'Exercise Notebook',
            items: [
              {
                id: 'm1.ex.1_1',
                kind: 'auto',
                counted: true,
                text: 'Exercise 1.1: Break the data (introduce 5 quality issues)',
                assignment: M1,
                notebook: '01_exercises'
              }
            ]
          },
          {
            id: 'm1.socratic',
            title: 'Socratic Questions (Can you answer these?)',
            items: [
              {
                id: 'm1.socratic.q1',
                kind: 'self',
                counted: true,
                text: '"If I run your data pipeline twice on the same input, will I get identical output?"'
              }
            ]
          },
          {
            id: 'm1.reflection',
            title: 'Reflection',
            items: [{ id: 'm1.aha', kind: 'text', counted: false, text: 'Aha moment', multiline: true }]
          }
        ]
      },
      {
        id: 'level',
        title: '📈 Skill Level Assessment',
        groups: [
          {
            id: 'level.main',
            title: 'Current Level (check one):',
            items: [
              {
                id: 'level.current',
                kind: 'choice',
                counted: false,
                text: 'Current level',
                options: ['Level 0: Beginner', 'Level 1: Advanced Beginner', 'Level 2: Competent']
              }
            ]
          }
        ]
      }
    ],
    states
  };
}

export function makeCheck(patch: Partial<Check> = {}): Check {
  return {
    id: 'check-1',
    assignment: M1,
    status: 'queued',
    step: 'queued',
    done: 0,
    total: 3,
    started: '2026-11-27T10:00:00+00:00',
    ...patch
  };
}

/** A promise plus the functions that settle it, to control when a fake answer arrives. */
export interface IDeferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): IDeferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type FakeApi = jest.Mocked<ITrackerApi> & { tracker: Tracker };

/** An in-memory server: `setItem` answers like the real one (bumps `rev`). */
export function makeApi(tracker: Tracker = makeTracker()): FakeApi {
  const holder: { tracker: Tracker } = { tracker };
  const api: FakeApi = {
    get tracker(): Tracker {
      return holder.tracker;
    },
    set tracker(value: Tracker) {
      holder.tracker = value;
    },
    getTracker: jest.fn(async (): Promise<Tracker> => structuredCloneTracker(holder.tracker)),
    setItem: jest.fn(async (id: string, value: ItemValue, rev: number): Promise<ItemState> => {
      const state: ItemState = {
        ...holder.tracker.states[id],
        value,
        rev: rev + 1,
        satisfied: value === true || (typeof value === 'string' && value !== '')
      };
      holder.tracker.states[id] = state;
      return { ...state };
    }),
    startCheck: jest.fn(async (assignment: string): Promise<Check> => makeCheck({ assignment })),
    getCheck: jest.fn(
      async (id: string): Promise<Check> => makeCheck({ id, status: 'done', done: 3 })
    ),
    exportMarkdown: jest.fn(async (): Promise<string> => '# ML Engineering Learning Progress Tracker\n'),
    setSharing: jest.fn(async (share: boolean) => {
      holder.tracker.sharing = share;
      return { sharing: share, written: share ? ['m1_data_engineering/shared-progress.json'] : [] };
    })
  };
  return api;
}

function structuredCloneTracker(tracker: Tracker): Tracker {
  return JSON.parse(JSON.stringify(tracker)) as Tracker;
}

/** Wait until `condition` holds, polling the event loop (for real-timer tests). */
export async function until(condition: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) {
      throw new Error('Timed out waiting for a condition.');
    }
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

/** Spies for what the views ask the application to do. */
export function makeActions(): jest.Mocked<ITrackerActions> {
  return {
    openPath: jest.fn(),
    openCell: jest.fn(),
    resolveUrl: jest.fn((relative: string) => `/base/${relative}`),
    exportMarkdown: jest.fn()
  };
}

/** The rendered row of one tracker item. */
export function row(itemId: string): HTMLElement {
  const element = document.querySelector<HTMLElement>(`li[data-item-id="${itemId}"]`);
  if (!element) {
    throw new Error(`No row for ${itemId}`);
  }
  return element;
}
