/**
 * What a learner sees (issue 14): unsaved notebooks are saved before a check and the graded
 * version is named; assignments not written yet say "coming soon"; badges mean what they say;
 * a check shows its steps in words, its elapsed time and every test cell's verdict; nothing
 * needs an emoji font.
 */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import React from 'react';

import { formatDuration, stepLabel } from '../components/CheckMyWork';
import { splitTitle } from '../components/icons';
import { TrackerView } from '../components/TrackerView';
import { TrackerModel } from '../model';
import { findGradedCell, revealGradedCell } from '../reveal';
import { assignmentFolder, IOpenDocument, saveBeforeCheck } from '../save';
import { Check, ISavedVersion } from '../tokens';
import { FakeApi, M1, makeActions, makeApi, makeCheck, makeTracker, row } from './fixtures';

const models: TrackerModel[] = [];

async function renderView(api: FakeApi = makeApi()) {
  const model = new TrackerModel({ api, autoStart: false, checkInterval: 5, refreshDelay: 10 });
  models.push(model);
  const actions = makeActions();
  render(<TrackerView model={model} actions={actions} textDelay={40} />);
  await act(() => model.refresh());
  return { api, model, actions };
}

function checkBlock(): HTMLElement {
  return document.querySelector(`[data-assignment="${M1}"]`) as HTMLElement;
}

afterEach(() => {
  while (models.length) {
    models.pop()!.dispose();
  }
});

function doc(path: string, dirty: boolean, save = jest.fn(async () => undefined)): IOpenDocument & {
  save: jest.Mock;
} {
  return { path, dirty, save };
}

describe('saving before a check (issue 14.2)', () => {
  const times: Record<string, string> = {
    'm1_data_engineering/01_exercises.ipynb': '2026-11-27T14:02:00.000Z',
    'm1_data_engineering/01_checkpoint.ipynb': '2026-11-27T13:00:00.000Z'
  };
  const contents = {
    get: jest.fn(async (path: string) => {
      if (!(path in times)) {
        throw new Error('404');
      }
      return { last_modified: times[path] };
    })
  };

  it("saves the assignment's dirty documents once each, and names the newest save", async () => {
    const dirty = doc('m1_data_engineering/01_exercises.ipynb', true);
    const clean = doc('m1_data_engineering/01_checkpoint.ipynb', false);
    const other = doc('m2_eda/02_exercises.ipynb', true);
    const sameAgain = doc('m1_data_engineering/01_exercises.ipynb', true);
    const version = await saveBeforeCheck(
      [dirty, clean, other, sameAgain],
      'm1_data_engineering',
      Object.keys(times).concat('m1_data_engineering/01_missing.ipynb'),
      contents
    );
    expect(dirty.save).toHaveBeenCalledTimes(1);
    expect(sameAgain.save).not.toHaveBeenCalled();
    expect(clean.save).not.toHaveBeenCalled();
    expect(other.save).not.toHaveBeenCalled();
    expect(version).toEqual({
      saved: ['m1_data_engineering/01_exercises.ipynb'],
      savedAt: '2026-11-27T14:02:00.000Z'
    });
  });

  it('refuses to go on when a save fails', async () => {
    const broken = doc(
      'm1_data_engineering/01_exercises.ipynb',
      true,
      jest.fn(async () => {
        throw new Error('disk full');
      })
    );
    await expect(
      saveBeforeCheck([broken], 'm1_data_engineering', [], contents)
    ).rejects.toThrow('saving m1_data_engineering/01_exercises.ipynb failed (disk full)');
  });

  it("finds the assignment's folder from its items' notebook paths", () => {
    const tracker = makeTracker({
      'm1.core.ran_all': { notebook_path: 'work/m1_data_engineering/01_data_engineering.ipynb' }
    });
    expect(assignmentFolder(tracker, M1)).toBe('work/m1_data_engineering');
    expect(assignmentFolder(null, M1)).toBe(M1);
  });

  it('saves before the check starts and says which version was graded', async () => {
    const api = makeApi();
    const order: string[] = [];
    api.startCheck.mockImplementation(async assignment => {
      order.push('start');
      return makeCheck({ assignment });
    });
    api.getCheck.mockResolvedValue(
      makeCheck({
        status: 'done',
        step: 'Done',
        done: 3,
        finished: '2026-11-27T14:03:00Z',
        results: [{ notebook: '01_exercises', score: 1, max_score: 2, cells: [] }]
      })
    );
    const { model } = await renderView(api);
    const savedAt = '2026-11-27T14:02:00.000Z';
    const beforeCheck = jest.fn(async (): Promise<ISavedVersion> => {
      order.push('save');
      return { saved: ['m1_data_engineering/01_exercises.ipynb'], savedAt };
    });
    model.checks.setBeforeCheck(beforeCheck);

    await act(async () => {
      fireEvent.click(within(checkBlock()).getByRole('button', { name: 'Check my work' }));
    });
    await waitFor(() => expect(checkBlock().querySelector('.jp-CourseTracker-checkResult')).not.toBeNull());
    expect(beforeCheck).toHaveBeenCalledWith(M1);
    expect(order).toEqual(['save', 'start']);
    const line = checkBlock().querySelector('.jp-CourseTracker-savedVersion')?.textContent ?? '';
    const clock = new Date(savedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    expect(line).toContain(`Graded your notebooks as saved at ${clock}`);
    expect(line).toContain('01_exercises.ipynb were saved first');
  });

  it('does not start a check when saving failed, and says why', async () => {
    const { api, model } = await renderView();
    model.checks.setBeforeCheck(async () => {
      throw new Error('saving m1_data_engineering/01_exercises.ipynb failed (disk full)');
    });
    await act(async () => {
      fireEvent.click(within(checkBlock()).getByRole('button', { name: 'Check my work' }));
    });
    expect(api.startCheck).not.toHaveBeenCalled();
    expect(screen.getByText(/could not be saved, so m1_data_engineering was not checked/)).toBeTruthy();
    expect(within(checkBlock()).getByRole('button', { name: 'Check my work' })).toBeTruthy();
  });
});

describe('assignments not written yet (issue 14.3)', () => {
  it('shows "coming soon" with no link, no score and no Check my work', async () => {
    const tracker = makeTracker({
      'm1.ex.1_1': { available: false, notebook_path: undefined, status: 'not_attempted' }
    });
    tracker.assignments[0] = { ...tracker.assignments[0], available: false, checkable: false };
    const { actions } = await renderView(makeApi(tracker));

    const item = row('m1.ex.1_1');
    expect(within(item).getByText('coming soon')).toBeTruthy();
    expect(within(item).queryByRole('button')).toBeNull();
    expect(within(item).queryByRole('link')).toBeNull();
    const block = checkBlock();
    expect(within(block).getByText('coming soon')).toBeTruthy();
    expect(within(block).queryByRole('button')).toBeNull();
    expect(actions.openPath).not.toHaveBeenCalled();
  });

  it('gives no link to a notebook the learner has not got', async () => {
    await renderView(makeApi(makeTracker({ 'm1.ex.1_1': { notebook_path: undefined } })));
    expect(within(row('m1.ex.1_1')).queryByRole('button')).toBeNull();
  });
});

describe('badges mean what a learner reads (issue 14.6)', () => {
  it('is green only when every point is earned', async () => {
    const tracker = makeTracker({
      'm1.ex.1_1': { status: 'graded', score: 0, max_score: 8, satisfied: false }
    });
    await renderView(makeApi(tracker));
    const zero = row('m1.ex.1_1').querySelector('.jp-CourseTracker-status') as HTMLElement;
    expect(zero.textContent).toBe('no tests pass yet');
    expect(zero.className).not.toMatch(/complete|graded/);
    const full = row('m1.core.ran_all').querySelector('.jp-CourseTracker-status') as HTMLElement;
    expect(full.className).toContain('jp-CourseTracker-status-complete');
  });

  it('shows a partial score in amber, and the assignment state from the server', async () => {
    const tracker = makeTracker({
      'm1.ex.1_1': { status: 'graded', score: 3, max_score: 8, satisfied: false }
    });
    tracker.assignments[0] = { ...tracker.assignments[0], state: 'graded', score: 0, max_score: 8 };
    await renderView(makeApi(tracker));
    const partial = row('m1.ex.1_1').querySelector('.jp-CourseTracker-status') as HTMLElement;
    expect(partial.textContent).toBe('some tests fail');
    expect(partial.className).toContain('jp-CourseTracker-status-partial');
    const badge = checkBlock().querySelector('[data-state="graded"]') as HTMLElement;
    expect(badge.textContent).toBe('0 / 8 points');
    expect(badge.className).toContain('jp-CourseTracker-status-zero');
  });

  it('counts steps in section headers, never text fields', async () => {
    await renderView();
    const setup = document.querySelector(
      'section[data-section-id="setup"] .jp-CourseTracker-sectionCount'
    ) as HTMLElement;
    // profile.name (a text field) is not a step: 1 of the 2 env checks is done.
    expect(setup.textContent).toBe('1/2');
  });

  it('counts the items the server counts, a choice with "done" options too', async () => {
    const tracker = makeTracker({ 'level.current': { value: 'Level 2: Competent', satisfied: true } });
    const levels = tracker.sections.find(s => s.id === 'level')!;
    const count = () =>
      document.querySelector('section[data-section-id="level"] .jp-CourseTracker-sectionCount');
    // a self-assessment (every answer as good as another) is not a step: no count at all
    await renderView(makeApi(tracker));
    expect(count()).toBeNull();
    cleanup();
    levels.groups[0].items[0] = { ...levels.groups[0].items[0], counted: true };
    await renderView(makeApi(tracker));
    expect(count()?.textContent).toBe('1/1');
  });
});

describe('check progress and per-test results (issue 14.7)', () => {
  const running: Partial<Check> = {
    status: 'running',
    step: 'Grading 01_exercises (2 of 3)',
    step_id: 'grade',
    done: 3,
    total: 7,
    elapsed: 12.4,
    running: ['01_exercises'],
    notebooks: [
      { notebook: '01_data_engineering', status: 'graded', seconds: 8.2 },
      { notebook: '01_exercises', status: 'running' },
      { notebook: '01_checkpoint', status: 'waiting' }
    ]
  };

  it('shows the step in words, the elapsed time and each notebook', async () => {
    const api = makeApi();
    api.startCheck.mockResolvedValue(makeCheck(running));
    api.getCheck.mockResolvedValue(makeCheck(running));
    await renderView(api);
    await act(async () => {
      fireEvent.click(within(checkBlock()).getByRole('button', { name: 'Check my work' }));
    });
    const progress = await waitFor(() => within(checkBlock()).getByRole('status'));
    expect(progress.textContent).toContain('Grading 01_exercises (2 of 3)');
    expect(progress.querySelector('.jp-CourseTracker-elapsed')?.textContent).toMatch(/^1[2-9] s$/);
    const states = Array.from(progress.querySelectorAll('li')).map(li => li.dataset.status);
    expect(states).toEqual(['graded', 'running', 'waiting']);
    expect(progress.textContent).toContain('8 s');
    expect(progress.textContent).not.toMatch(/\(\d+\/\d+\)/);
  });

  it('never shows an internal step name', () => {
    expect(stepLabel(makeCheck({ step: 'generate_feedback', status: 'running' }))).toBe(
      'Writing feedback'
    );
    expect(stepLabel(makeCheck({ step: 'prepare', status: 'running' }))).toBe('Preparing the grader');
    expect(formatDuration(185)).toBe('3 min 05 s');
  });

  it('lists every test cell as passed or failed with its message, linked to the cell', async () => {
    const api = makeApi();
    api.getCheck.mockResolvedValue(
      makeCheck({
        status: 'done',
        step: 'Done',
        done: 7,
        total: 7,
        elapsed: 95,
        finished: '2026-11-27T10:01:35Z',
        results: [
          {
            notebook: '01_exercises',
            score: 2,
            max_score: 5,
            cells: [
              { grade_id: 'ex1_answer', kind: 'answer', score: 0, max_score: 0, passed: null, message: null },
              { grade_id: 'test_ex1_dedup', kind: 'test', score: 2, max_score: 2, passed: true, message: null },
              {
                grade_id: 'test_ex1_nulls',
                kind: 'test',
                score: 0,
                max_score: 3,
                passed: false,
                message: 'AssertionError: the price column still has 5 missing values'
              }
            ]
          }
        ]
      })
    );
    const { actions } = await renderView(api);
    await act(async () => {
      fireEvent.click(within(checkBlock()).getByRole('button', { name: 'Check my work' }));
    });
    await waitFor(() => expect(checkBlock().querySelector('.jp-CourseTracker-cellResult')).not.toBeNull());
    const block = checkBlock();
    expect(block.textContent).toContain('in 1 min 35 s');
    const cells = Array.from(block.querySelectorAll<HTMLElement>('.jp-CourseTracker-cellResult'));
    expect(cells.map(c => [c.dataset.gradeId, c.dataset.passed])).toEqual([
      ['test_ex1_dedup', 'true'],
      ['test_ex1_nulls', 'false']
    ]);
    expect(cells[1].textContent).toContain('failed');
    expect(cells[1].textContent).toContain('the price column still has 5 missing values');
    expect(cells[0].textContent).not.toContain('AssertionError');
    expect(block.textContent).toContain('1 written answer to be graded by your instructor');

    fireEvent.click(within(cells[1]).getByRole('button', { name: 'test_ex1_nulls' }));
    expect(actions.openCell).toHaveBeenCalledWith(
      'm1_data_engineering/01_exercises.ipynb',
      'test_ex1_nulls'
    );
  });

  it('opens the notebook at the cell with that grade id', async () => {
    const cells = ['a', 'test_ex1_nulls', 'b'].map(id => ({
      model: { getMetadata: (key: string) => (key === 'nbgrader' ? { grade_id: id } : undefined) }
    }));
    const scrollToCell = jest.fn(async () => undefined);
    const panel = {
      context: { ready: Promise.resolve() },
      revealed: Promise.resolve(),
      content: { widgets: cells, activeCellIndex: 0, scrollToCell }
    };
    expect(findGradedCell(panel.content, 'b')).toBe(2);
    await expect(revealGradedCell(panel, 'test_ex1_nulls')).resolves.toBe(true);
    expect(panel.content.activeCellIndex).toBe(1);
    expect(scrollToCell).toHaveBeenCalledWith(cells[1], 'start');
    await expect(revealGradedCell(panel, 'deleted')).resolves.toBe(false);
    await expect(revealGradedCell({}, 'x')).resolves.toBe(false);
  });
});

describe('the sidebar at its default width (issue 14.10)', () => {
  it('renders no emoji and no symbol glyphs a missing font would show as boxes', async () => {
    await renderView();
    const text = document.querySelector('.jp-CourseTracker')?.textContent ?? '';
    expect(text).not.toMatch(/\p{Extended_Pictographic}/u);
    expect(text).not.toMatch(/[✓▸▾↻⤓]/);
    expect(document.querySelectorAll('svg.jp-CourseTracker-icon').length).toBeGreaterThan(0);
  });

  it('keeps a title readable: emoji dropped, duration apart', () => {
    expect(splitTitle('📚 Module 1: Data Engineering Foundations (2-3 hours)')).toEqual({
      text: 'Module 1: Data Engineering Foundations',
      note: '2-3 hours'
    });
    expect(splitTitle('1. Setup')).toEqual({ text: '1. Setup', note: null });
  });

  it('gives one-line fields a growing text box that holds no line breaks', async () => {
    const { api } = await renderView();
    const box = within(row('profile.name')).getByRole('textbox') as HTMLTextAreaElement;
    expect(box.tagName).toBe('TEXTAREA');
    expect(fireEvent.keyDown(box, { key: 'Enter' })).toBe(false); // default prevented
    fireEvent.change(box, { target: { value: 'Ada\nLovelace' } });
    expect(box.value).toBe('Ada Lovelace');
    await waitFor(() => expect(api.setItem).toHaveBeenCalledWith('profile.name', 'Ada Lovelace', 0));
    const aha = within(row('m1.aha')).getByRole('textbox') as HTMLTextAreaElement;
    expect(fireEvent.keyDown(aha, { key: 'Enter' })).toBe(true); // multi-line keeps newlines
  });
});

describe('sharing with the instructor', () => {
  it('is off until the learner turns it on, and the server keeps the setting', async () => {
    const tracker = makeTracker();
    tracker.sharing = false;
    const { api } = await renderView(makeApi(tracker));
    const toggle = screen.getByRole('checkbox', { name: 'Share my progress with my instructor' });
    expect((toggle as HTMLInputElement).checked).toBe(false);

    await act(async () => {
      fireEvent.click(toggle);
    });

    expect(api.setSharing).toHaveBeenCalledWith(true);
    await waitFor(() => expect((toggle as HTMLInputElement).checked).toBe(true));
  });

  it('says so when the server refuses, and shows the setting it kept', async () => {
    const tracker = makeTracker();
    tracker.sharing = false;
    const api = makeApi(tracker);
    (api.setSharing as jest.Mock).mockRejectedValueOnce(new Error('the store is read-only'));
    await renderView(api);
    const toggle = screen.getByRole('checkbox', { name: 'Share my progress with my instructor' });
    await act(async () => {
      fireEvent.click(toggle);
    });
    expect(screen.getByText(/Could not turn on sharing: the store is read-only/)).toBeTruthy();
    expect((toggle as HTMLInputElement).checked).toBe(false);
  });

  it('is not offered by a server that has no sharing', async () => {
    await renderView();
    expect(screen.queryByRole('checkbox', { name: /Share my progress/ })).toBeNull();
  });
});
