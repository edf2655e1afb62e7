import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import React from 'react';

import { TrackerApiError } from '../api';
import { splitMessage } from '../components/CheckMyWork';
import { TrackerView } from '../components/TrackerView';
import { TrackerModel } from '../model';
import { FakeApi, M1, makeActions, makeApi, makeCheck, makeTracker, row } from './fixtures';

const models: TrackerModel[] = [];

async function renderView(api: FakeApi = makeApi(), textDelay = 40) {
  const model = new TrackerModel({ api, autoStart: false, checkInterval: 5, refreshDelay: 10 });
  models.push(model);
  const actions = makeActions();
  const view = render(<TrackerView model={model} actions={actions} textDelay={textDelay} />);
  await act(() => model.refresh());
  return { api, model, actions, view };
}

afterEach(() => {
  while (models.length) {
    models.pop()!.dispose();
  }
});

describe('TrackerView', () => {
  it('renders the header, the sections in order and the derived counts', async () => {
    await renderView();

    expect(screen.getByRole('heading', { name: 'Progress' })).toBeTruthy();
    expect(screen.getByRole('progressbar').textContent).toContain('2 / 9 steps (22%)');
    const titles = Array.from(document.querySelectorAll('.jp-CourseTracker-sectionTitle')).map(
      el => el.textContent
    );
    // The decorative emoji is dropped (no emoji font needed) and the duration is a note.
    expect(titles).toEqual([
      'Overall Progress',
      'Pre-Course Setup',
      'Module 1: Data Engineering Foundations',
      'Skill Level Assessment'
    ]);
    const headline = document.querySelector('.jp-CourseTracker-headline') as HTMLElement;
    expect(within(headline).getByText('1 / 5')).toBeTruthy();
    // Markdown bold in item text becomes <strong>, not literal asterisks.
    expect(headline.querySelector('strong')?.textContent).toBe('Modules Completed');
  });

  it('shows a loading message before the first answer', () => {
    const model = new TrackerModel({ api: makeApi(), autoStart: false });
    models.push(model);
    render(<TrackerView model={model} actions={makeActions()} />);
    expect(screen.getByRole('status').textContent).toMatch(/Loading/);
  });

  it('ticking a self item sends it to the server', async () => {
    const { api } = await renderView();
    const checkbox = within(row('m1.socratic.q1')).getByRole('checkbox') as HTMLInputElement;
    expect(checkbox.checked).toBe(false);

    await act(async () => {
      fireEvent.click(checkbox);
    });

    expect(api.setItem).toHaveBeenCalledWith('m1.socratic.q1', true, 2);
    expect(checkbox.checked).toBe(true);
    expect(row('m1.socratic.q1').dataset.satisfied).toBe('true');
  });

  it('choosing an option saves it', async () => {
    const { api } = await renderView();
    const select = within(row('level.current')).getByRole('combobox');

    await act(async () => {
      fireEvent.change(select, { target: { value: 'Level 2: Competent' } });
    });

    expect(api.setItem).toHaveBeenCalledWith('level.current', 'Level 2: Competent', 0);
  });

  it('typing in a text area saves once, after the typing pauses', async () => {
    const { api } = await renderView();
    const textarea = within(row('m1.aha')).getByRole('textbox') as HTMLTextAreaElement;
    expect(textarea.tagName).toBe('TEXTAREA');

    fireEvent.focus(textarea);
    for (const text of ['D', 'Da', 'Data', 'Data d', 'Data drifts']) {
      fireEvent.change(textarea, { target: { value: text } });
    }
    expect(api.setItem).not.toHaveBeenCalled();
    expect(within(row('m1.aha')).getByText('editing…')).toBeTruthy();

    await waitFor(() => expect(within(row('m1.aha')).getByText('saved')).toBeTruthy());
    expect(api.setItem).toHaveBeenCalledTimes(1);
    expect(api.setItem).toHaveBeenCalledWith('m1.aha', 'Data drifts', 0);
  });

  it('keeps what the learner is typing when a poll arrives', async () => {
    const { api, model } = await renderView(makeApi(), 10_000);
    const input = within(row('profile.name')).getByRole('textbox') as HTMLInputElement;

    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: 'Ada Lov' } });
    await act(() => model.refresh()); // the server still has ''

    expect(api.getTracker).toHaveBeenCalledTimes(2);
    expect(input.value).toBe('Ada Lov');
    expect(api.setItem).not.toHaveBeenCalled();

    // Leaving the field saves at once instead of waiting for the debounce.
    await act(async () => {
      fireEvent.blur(input);
    });
    expect(api.setItem).toHaveBeenCalledWith('profile.name', 'Ada Lov', 0);
  });

  it('keeps the words when a save fails, and retries when the field is left', async () => {
    const api = makeApi();
    api.setItem.mockRejectedValueOnce(new TrackerApiError(500, 'store is read-only'));
    await renderView(api);
    const input = within(row('profile.name')).getByRole('textbox') as HTMLInputElement;

    fireEvent.focus(input);
    fireEvent.change(input, { target: { value: 'Grace Hopper' } });
    await waitFor(() => expect(within(row('profile.name')).getByText('not saved')).toBeTruthy());
    expect(input.value).toBe('Grace Hopper');
    expect(screen.getByRole('alert').textContent).toContain('store is read-only');

    await act(async () => {
      fireEvent.blur(input);
    });
    await waitFor(() => expect(within(row('profile.name')).getByText('saved')).toBeTruthy());
    expect(api.setItem).toHaveBeenCalledTimes(2);
    expect(api.tracker.states['profile.name'].value).toBe('Grace Hopper');
  });

  it('takes a value written elsewhere when the learner is not typing', async () => {
    const api = makeApi();
    const { model } = await renderView(api);
    api.tracker = makeTracker({ 'profile.name': { value: 'From another tab', rev: 4 } });

    await act(() => model.refresh());

    const input = within(row('profile.name')).getByRole('textbox') as HTMLInputElement;
    expect(input.value).toBe('From another tab');
  });

  it('shows an auto item with its status, score, feedback link, and opens the notebook', async () => {
    const { actions } = await renderView();
    const graded = row('m1.core.ran_all');

    expect(within(graded).getByText('all tests pass')).toBeTruthy();
    expect(within(graded).getByText('3 / 3')).toBeTruthy();
    const link = within(graded).getByRole('link', { name: 'feedback' }) as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe(
      '/base/course-tracker/feedback/m1_data_engineering/01_data_engineering'
    );
    expect(graded.dataset.satisfied).toBe('true');

    fireEvent.click(within(graded).getByRole('button', { name: /Ran all cells/ }));
    expect(actions.openPath).toHaveBeenCalledWith('m1_data_engineering/01_data_engineering.ipynb');

    const open = row('m1.ex.1_1');
    expect(within(open).getByText('not attempted')).toBeTruthy();
    expect(within(open).queryByRole('link', { name: 'feedback' })).toBeNull();
  });

  it('shows env checks with their detail', async () => {
    await renderView();
    expect(within(row('setup.python')).getByText('ok')).toBeTruthy();
    expect(within(row('setup.data')).getByText('failed')).toBeTruthy();
    expect(within(row('setup.data')).getByText('data/pokemon.csv missing')).toBeTruthy();
  });

  it('shows an error banner with a retry when the server fails', async () => {
    const api = makeApi();
    api.getTracker.mockRejectedValueOnce(
      new TrackerApiError(500, 'course.yaml: item m1.x has no kind')
    );
    await renderView(api);

    const banner = screen.getByRole('alert');
    expect(banner.textContent).toContain('course.yaml: item m1.x has no kind');

    await act(async () => {
      fireEvent.click(within(banner).getByRole('button', { name: 'Retry' }));
    });
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
    expect(screen.getByRole('heading', { name: 'Progress' })).toBeTruthy();
  });

  it('runs "Check my work" and shows progress, then the scores', async () => {
    const api = makeApi();
    api.getCheck
      .mockResolvedValueOnce(makeCheck({ status: 'running', step: 'autograding', done: 1 }))
      .mockResolvedValueOnce(
        makeCheck({
          status: 'done',
          step: 'done',
          done: 3,
          finished: '2026-11-27T10:01:00+00:00',
          results: [{ notebook: '01_exercises', score: 9.5, max_score: 10, cells: [] }]
        })
      );
    api.getCheck.mockImplementation(async () =>
      makeCheck({ status: 'done', step: 'done', done: 3 })
    );
    await renderView(api);
    const block = document.querySelector(`[data-assignment="${M1}"]`) as HTMLElement;
    const button = within(block).getByRole('button', { name: 'Check my work' });

    await act(async () => {
      fireEvent.click(button);
    });
    expect(api.startCheck).toHaveBeenCalledWith(M1);

    await waitFor(() => expect(within(block).getByText('9.5 / 10')).toBeTruthy());
    expect(within(block).getByRole('button', { name: 'Check my work' })).toBeTruthy();
  });

  it('collapses a section and remembers it', async () => {
    const { model } = await renderView();
    const header = screen.getByRole('button', { name: /Module 1/ });
    expect(document.querySelector('li[data-item-id="m1.aha"]')).not.toBeNull();

    await act(async () => {
      fireEvent.click(header);
    });

    expect(document.querySelector('li[data-item-id="m1.aha"]')).toBeNull();
    expect(header.getAttribute('aria-expanded')).toBe('false');
    expect(model.isCollapsed('m1')).toBe(true);
  });

  it('shows a failed check as a one-line reason with the log behind "details"', async () => {
    const api = makeApi();
    const log = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad';
    api.getCheck.mockResolvedValueOnce(
      makeCheck({
        status: 'failed',
        step: 'autograde',
        message: `nbgrader autograde failed (exit code 1). The end of its log: ${log}`
      })
    );
    await renderView(api);
    const block = document.querySelector(`[data-assignment="${M1}"]`) as HTMLElement;

    await act(async () => {
      fireEvent.click(within(block).getByRole('button', { name: 'Check my work' }));
    });

    const alert = await waitFor(() => within(block).getByRole('alert'));
    expect(alert.firstElementChild?.textContent).toBe(
      'Check failed: nbgrader autograde failed (exit code 1).'
    );
    expect(alert.querySelector('details pre')?.textContent).toContain('ValueError: bad');
  });
});

describe('splitMessage', () => {
  it('keeps a short message whole', () => {
    expect(splitMessage('Workspace folder missing')).toEqual({
      summary: 'Workspace folder missing',
      details: null
    });
  });

  it('cuts at the first sentence or line and keeps the whole text as details', () => {
    expect(splitMessage('Timed out. Notebook 01 ran for 600 s').summary).toBe('Timed out.');
    expect(splitMessage('first line\nsecond line').summary).toBe('first line');
    const long = 'x'.repeat(500);
    const split = splitMessage(long);
    expect(split.summary).toHaveLength(201);
    expect(split.details).toBe(long);
  });
});
