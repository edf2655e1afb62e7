import { Signal } from '@lumino/signaling';
import { Contents } from '@jupyterlab/services';

import { TrackerApiError } from '../api';
import { TrackerModel } from '../model';
import { walkItems } from '../tokens';
import { deferred, M1, makeApi, makeCheck, makeTracker, until } from './fixtures';

const models: TrackerModel[] = [];

function makeModel(
  api: ReturnType<typeof makeApi>,
  options: Partial<ConstructorParameters<typeof TrackerModel>[0]> = {}
): TrackerModel {
  const model = new TrackerModel({
    api,
    autoStart: false,
    checkInterval: 5,
    refreshDelay: 10,
    ...options
  });
  models.push(model);
  return model;
}

afterEach(() => {
  while (models.length) {
    models.pop()!.dispose();
  }
  jest.useRealTimers();
});

describe('TrackerModel loading and polling', () => {
  it('starts in loading and is ready with the tracker after the first answer', async () => {
    const api = makeApi();
    const model = makeModel(api);
    const statuses: string[] = [];
    model.stateChanged.connect((_, status) => statuses.push(status));
    expect(model.status).toBe('loading');

    await model.refresh();

    expect(model.status).toBe('ready');
    expect(statuses).toEqual(['ready']);
    expect(model.tracker?.course_id).toBe('ml-engineering');
    expect(model.itemState('m1.core.ran_all')?.score).toBe(3);
    expect(model.itemDef('m1.aha')?.multiline).toBe(true);
  });

  it('polls the server again after the configured interval', async () => {
    jest.useFakeTimers();
    const api = makeApi();
    const model = makeModel(api, { pollInterval: 7, autoStart: true });
    await jest.advanceTimersByTimeAsync(50);
    expect(api.getTracker).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(6000);
    expect(api.getTracker).toHaveBeenCalledTimes(1);

    await jest.advanceTimersByTimeAsync(1500);
    expect(api.getTracker).toHaveBeenCalledTimes(2);
    expect(model.pollInterval).toBe(7);
  });

  it('never polls faster than the minimum interval', () => {
    const model = makeModel(makeApi(), { pollInterval: 1 });
    expect(model.pollInterval).toBe(5);
    model.pollInterval = 60;
    expect(model.pollInterval).toBe(60);
    model.pollInterval = 0;
    expect(model.pollInterval).toBe(5);
  });

  it('refresh() replaces the states with the server answer', async () => {
    const api = makeApi();
    const model = makeModel(api);
    await model.refresh();
    api.tracker = makeTracker({ 'm1.ex.1_1': { status: 'graded', score: 2, max_score: 4 } });

    await model.refresh();

    expect(api.getTracker).toHaveBeenCalledTimes(2);
    expect(model.itemState('m1.ex.1_1')).toMatchObject({ status: 'graded', score: 2 });
  });

  it('shows an error state when the first load fails, and recovers on retry', async () => {
    const api = makeApi();
    api.getTracker.mockRejectedValueOnce(new TrackerApiError(500, 'course.yaml is invalid'));
    const model = makeModel(api);

    await model.refresh();
    expect(model.status).toBe('error');
    expect(model.error).toBe('course.yaml is invalid');
    expect(model.tracker).toBeNull();

    await model.refresh();
    expect(model.status).toBe('ready');
    expect(model.error).toBeNull();
  });

  it('keeps the last tracker and reports the error when a later refresh fails', async () => {
    const api = makeApi();
    const model = makeModel(api);
    await model.refresh();
    api.getTracker.mockRejectedValueOnce(new TrackerApiError(0, 'Cannot reach the server'));

    await model.refresh();

    expect(model.status).toBe('ready');
    expect(model.tracker).not.toBeNull();
    expect(model.error).toBe('Cannot reach the server');
  });

  it('refreshes after a file is saved', async () => {
    const api = makeApi();
    const model = makeModel(api);
    await model.refresh();
    const fileChanged = new Signal<unknown, Contents.IChangedArgs>({});
    model.watchSaves(fileChanged);

    fileChanged.emit({ type: 'rename', oldValue: null, newValue: null });
    fileChanged.emit({ type: 'save', oldValue: null, newValue: { path: 'a.ipynb' } });
    fileChanged.emit({ type: 'save', oldValue: null, newValue: { path: 'b.ipynb' } });

    await until(() => api.getTracker.mock.calls.length === 2);
    await new Promise(resolve => setTimeout(resolve, 50));
    // Two saves in quick succession cause one refresh; a rename causes none.
    expect(api.getTracker).toHaveBeenCalledTimes(2);
  });
});

describe('TrackerModel item edits', () => {
  it('shows an edit at once and keeps the server answer', async () => {
    const api = makeApi();
    const answer = deferred<any>();
    api.setItem.mockReturnValueOnce(answer.promise);
    const model = makeModel(api);
    await model.refresh();

    const saved = model.setItem('m1.socratic.q1', true);

    expect(model.itemState('m1.socratic.q1')).toMatchObject({ value: true, satisfied: true });
    expect(model.isSaving('m1.socratic.q1')).toBe(true);
    expect(api.setItem).toHaveBeenCalledWith('m1.socratic.q1', true, 2);

    answer.resolve({ id: 'm1.socratic.q1', value: true, satisfied: true, rev: 3 });
    await expect(saved).resolves.toBe('saved');
    expect(model.isSaving('m1.socratic.q1')).toBe(false);
    expect(model.itemState('m1.socratic.q1')).toMatchObject({ value: true, rev: 3 });
  });

  it('rolls back and tells the learner when the server refuses an edit', async () => {
    const api = makeApi();
    api.setItem.mockRejectedValueOnce(new TrackerApiError(500, 'disk full'));
    const model = makeModel(api);
    await model.refresh();

    const outcome = await model.setItem('m1.socratic.q1', true);

    expect(outcome).toBe('error');
    expect(model.itemState('m1.socratic.q1')).toMatchObject({ value: false, satisfied: false });
    expect(model.notices).toHaveLength(1);
    expect(model.notices[0].kind).toBe('error');
    expect(model.notices[0].message).toContain('disk full');
  });

  it('takes the server state on a 409 conflict and keeps the lost text in the notice', async () => {
    const api = makeApi();
    const serverState = { id: 'm1.aha', value: 'written in another tab', satisfied: true, rev: 7 };
    api.setItem.mockRejectedValueOnce(
      new TrackerApiError(409, 'stale revision', { message: 'stale revision', state: serverState })
    );
    const model = makeModel(api);
    await model.refresh();

    const outcome = await model.setItem('m1.aha', 'my own insight');

    expect(outcome).toBe('conflict');
    expect(model.itemState('m1.aha')).toMatchObject({ value: 'written in another tab', rev: 7 });
    expect(model.notices[0].kind).toBe('warning');
    expect(model.notices[0].message).toContain('my own insight');

    // The next edit is based on the revision the conflict reported.
    await model.setItem('m1.aha', 'merged insight');
    expect(api.setItem).toHaveBeenLastCalledWith('m1.aha', 'merged insight', 7);
  });

  it('sends edits of one item one after another, each on the previous revision', async () => {
    const api = makeApi();
    const first = deferred<any>();
    api.setItem.mockReturnValueOnce(first.promise);
    const model = makeModel(api);
    await model.refresh();

    const a = model.setItem('m1.aha', 'Data');
    const b = model.setItem('m1.aha', 'Data drifts');
    expect(api.setItem).toHaveBeenCalledTimes(1);
    expect(model.itemState('m1.aha')?.value).toBe('Data drifts');

    first.resolve({ id: 'm1.aha', value: 'Data', satisfied: true, rev: 1 });
    await Promise.all([a, b]);

    expect(api.setItem).toHaveBeenCalledTimes(2);
    expect(api.setItem).toHaveBeenLastCalledWith('m1.aha', 'Data drifts', 1);
    expect(model.itemState('m1.aha')).toMatchObject({ value: 'Data drifts', rev: 2 });
  });

  it('does not let a poll overwrite an edit that is still being saved', async () => {
    const api = makeApi();
    const answer = deferred<any>();
    api.setItem.mockReturnValueOnce(answer.promise);
    const model = makeModel(api);
    await model.refresh();

    const saved = model.setItem('m1.aha', 'half a thought');
    await model.refresh(); // the server still has the old value

    expect(model.itemState('m1.aha')?.value).toBe('half a thought');
    answer.resolve({ id: 'm1.aha', value: 'half a thought', satisfied: true, rev: 1 });
    await saved;
    expect(model.itemState('m1.aha')?.value).toBe('half a thought');
  });

  it('ignores a poll that left before a write landed, but not a later one', async () => {
    const api = makeApi();
    const model = makeModel(api);
    await model.refresh();
    const slowPoll = deferred<any>();
    api.getTracker.mockReturnValueOnce(slowPoll.promise);

    const polled = model.refresh(); // leaves now, answers after the write below
    await until(() => api.getTracker.mock.calls.length === 2);
    await model.setItem('m1.socratic.q1', true); // the server answers rev 3
    slowPoll.resolve(makeTracker()); // still says value false, rev 2
    await polled;
    expect(model.itemState('m1.socratic.q1')).toMatchObject({ value: true, rev: 3 });

    // A poll sent after the write is believed, even with a lower revision (a reset store).
    api.tracker = makeTracker({ 'm1.socratic.q1': { value: false, rev: 0 } });
    await model.refresh();
    expect(model.itemState('m1.socratic.q1')).toMatchObject({ value: false, rev: 0 });
  });

  it('refuses to set items the server computes', async () => {
    const model = makeModel(makeApi());
    await model.refresh();
    await expect(model.setItem('m1.core.ran_all', true)).rejects.toThrow(/auto item/);
    await expect(model.setItem('no.such.item', true)).rejects.toThrow(/Unknown tracker item/);
  });
});

describe('TrackerModel checks', () => {
  it('follows a check until it is done, then refreshes the tracker', async () => {
    const api = makeApi();
    api.startCheck.mockResolvedValueOnce(makeCheck());
    api.getCheck
      .mockResolvedValueOnce(makeCheck({ status: 'running', step: 'autograding', done: 1 }))
      .mockResolvedValueOnce(makeCheck({ status: 'running', step: 'autograding', done: 2 }))
      .mockResolvedValueOnce(
        makeCheck({
          status: 'done',
          step: 'done',
          done: 3,
          results: [{ notebook: '01_exercises', score: 9, max_score: 10, cells: [] }]
        })
      );
    const model = makeModel(api);
    await model.refresh();
    const seen: string[] = [];
    model.changed.connect(() => {
      const check = model.checks.check(M1);
      if (check) {
        seen.push(`${check.status}:${check.done}`);
      }
    });

    const running = model.checks.startCheck(M1);
    expect(model.checks.isChecking(M1)).toBe(true);
    const final = await running;

    expect(final?.status).toBe('done');
    expect(model.checks.isChecking(M1)).toBe(false);
    expect(api.getCheck).toHaveBeenCalledTimes(3);
    expect(seen).toEqual(expect.arrayContaining(['running:1', 'running:2', 'done:3']));
    expect(model.checks.check(M1)?.results?.[0].score).toBe(9);
    expect(api.getTracker).toHaveBeenCalledTimes(2);
  });

  it('marks a check failed when the server forgets it', async () => {
    const api = makeApi();
    api.getCheck.mockRejectedValueOnce(new TrackerApiError(404, 'unknown check'));
    const model = makeModel(api);
    await model.refresh();

    const final = await model.checks.startCheck(M1);

    expect(final?.status).toBe('failed');
    expect(final?.message).toMatch(/no longer knows/);
    expect(model.checks.isChecking(M1)).toBe(false);
  });

  it('reports a check that cannot start', async () => {
    const api = makeApi();
    api.startCheck.mockRejectedValueOnce(new TrackerApiError(404, 'unknown assignment x'));
    const model = makeModel(api);
    await model.refresh();

    expect(await model.checks.startCheck('x')).toBeNull();
    expect(model.checks.isChecking('x')).toBe(false);
    expect(model.notices[0].message).toContain('unknown assignment x');
  });

  it('resumes following a check that was running before a reload', async () => {
    const tracker = makeTracker();
    tracker.assignments[0].last_check = makeCheck({ status: 'running', done: 1 });
    const api = makeApi(tracker);
    const model = makeModel(api);

    await model.refresh();
    expect(model.checks.isChecking(M1)).toBe(true);

    await until(() => model.checks.check(M1)?.status === 'done');
    expect(api.getCheck).toHaveBeenCalledWith('check-1');
  });
});

describe('TrackerModel view preferences', () => {
  it('remembers collapsed sections', async () => {
    const model = makeModel(makeApi());
    await model.refresh();
    expect(model.isCollapsed('m1')).toBe(false);
    model.toggleCollapsed('m1');
    expect(model.isCollapsed('m1')).toBe(true);
    expect(model.isCollapsed('setup')).toBe(false);
  });
});

describe('walkItems', () => {
  it('visits every item once, in manifest order, with its section and group', () => {
    const tracker = makeTracker();
    const places = Array.from(walkItems(tracker.sections));
    const expected = tracker.sections.flatMap(s => s.groups.flatMap(g => g.items.map(i => i.id)));
    expect(places.map(p => p.item.id)).toEqual(expected);
    expect(places.length).toBeGreaterThan(3);
    for (const { section, group, item } of places) {
      expect(section.groups).toContain(group);
      expect(group.items).toContain(item);
    }
  });
});
