/**
 * The instructor's cohort view: the role probe (403 = student: nothing added), the API paths,
 * the model, and the view's table, histograms, expandable failures and CSV export.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import React from 'react';

import { TrackerApi, TrackerApiError } from '../api';
import { CohortModel, ICohort, ICohortApi, ICohortFailures, cohortCell, probeCohort } from '../cohort';
import { COHORT_COMMAND, COHORT_PLUGIN_ID, setUpCohort } from '../cohortPlugin';
import { describeCell } from '../components/CohortMatrix';
import { CohortView } from '../components/CohortView';
import plugins from '../index';
import { until } from './fixtures';

const M1 = 'm1_data_engineering';

function makeCohort(): ICohort {
  return {
    course_id: 'ml-engineering',
    students: ['alice', 'bob', 'carol'],
    items: [
      { id: 'm1.core.squares', kind: 'auto', text: 'Squares', assignment: M1, notebook: '01_ex' },
      { id: 'm1.core.ran', kind: 'auto', text: 'Ran it', assignment: M1, notebook: '01_ex' },
      { id: 'm1.reflect.q1', kind: 'self', text: 'I can explain it', assignment: null, notebook: null }
    ],
    cells: [
      { status: 'graded', satisfied: true, score: 2, max_score: 2 },
      { status: 'graded', satisfied: true, detail: 'submitted' },
      { status: 'private' },
      { status: 'graded', satisfied: false, score: 0, max_score: 2 },
      { status: 'shared', value: true, satisfied: true },
      { status: 'not_graded', satisfied: false }
    ],
    // indices into `cells`, one per item in `items` order
    matrix: { alice: [0, 1, 2], bob: [3, 1, 4], carol: [5, 5, 2] },
    distributions: [
      {
        assignment: M1,
        title: 'Module 1',
        graded: 2,
        max_score: 2,
        mean: 1,
        median: 1,
        histogram: [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
      }
    ],
    failing: [
      { assignment: M1, notebook: '01_ex', grade_id: 'test_squares', failed: 1, graded: 2, students: ['bob'] }
    ],
    ungraded: [{ student: 'carol', assignment: M1, submitted: '2026-11-02T09:00:00+00:00', reason: 'never graded' }],
    shared_by: ['bob']
  };
}

const FAILURES: ICohortFailures = {
  assignment: M1,
  notebook: '01_ex',
  grade_id: 'test_squares',
  failed: 1,
  graded: 2,
  messages: [{ message: 'AssertionError: squares(3) should be 9', count: 1 }],
  read: 1
};

function fakeApi(overrides: Partial<ICohortApi> = {}): jest.Mocked<ICohortApi> {
  return {
    getCohort: jest.fn(async () => makeCohort()),
    getCohortFailures: jest.fn(async () => FAILURES),
    exportCohortCsv: jest.fn(async () => 'student,m1.core.squares\nalice,2/2\n'),
    ...overrides
  } as jest.Mocked<ICohortApi>;
}

const forbidden = () =>
  Promise.reject(new TrackerApiError(403, 'the cohort view is for instructors; this server belongs to a student'));

const models: CohortModel[] = [];
afterEach(() => {
  while (models.length) {
    models.pop()!.dispose();
  }
});

function makeModel(api: ICohortApi, initial: ICohort | null = null): CohortModel {
  const model = new CohortModel({ api, initial, autoStart: false });
  models.push(model);
  return model;
}

describe('probeCohort', () => {
  it('says instructor with the first report on 200', async () => {
    const answer = await probeCohort(fakeApi());
    expect(answer.role).toBe('instructor');
    expect(answer.report?.students).toEqual(['alice', 'bob', 'carol']);
  });

  it('says student on 403', async () => {
    expect(await probeCohort(fakeApi({ getCohort: jest.fn(forbidden) }))).toEqual({
      role: 'student',
      report: null
    });
  });

  it('does not guess a role when the server fails otherwise', async () => {
    const broken = fakeApi({ getCohort: jest.fn(() => Promise.reject(new TrackerApiError(0, 'down'))) });
    await expect(probeCohort(broken)).rejects.toThrow('down');
  });
});

describe('TrackerApi cohort methods', () => {
  let makeRequest: jest.SpyInstance;
  beforeEach(() => {
    makeRequest = jest
      .spyOn(ServerConnection, 'makeRequest')
      .mockImplementation(async url =>
        String(url).endsWith('.csv')
          ? new Response('student\n', { status: 200 })
          : new Response(JSON.stringify(makeCohort()), { status: 200 })
      );
  });
  afterEach(() => makeRequest.mockRestore());

  it('asks the cohort endpoints under course-tracker/', async () => {
    const settings = ServerConnection.makeSettings();
    const api = new TrackerApi(settings);
    await api.getCohort();
    await api.getCohortFailures(M1, '01 ex', 'test/x');
    expect(await api.exportCohortCsv()).toBe('student\n');
    const urls = makeRequest.mock.calls.map(call => String(call[0]));
    expect(urls).toEqual([
      `${settings.baseUrl}course-tracker/cohort`,
      `${settings.baseUrl}course-tracker/cohort/failures/${M1}/01%20ex/test%2Fx`,
      `${settings.baseUrl}course-tracker/cohort.csv`
    ]);
  });
});

function makeApp() {
  const commands = new CommandRegistry();
  const added: Array<{ widget: Widget; area: string }> = [];
  const app = {
    commands,
    shell: {
      // as JupyterLab's shell does: the widget is on the page once added
      add: (widget: Widget, area: string) => {
        Widget.attach(widget, document.body);
        added.push({ widget, area });
      },
      activateById: jest.fn()
    },
    serviceManager: { serverSettings: ServerConnection.makeSettings() }
  };
  return { app: app as unknown as JupyterFrontEnd, commands, added };
}

describe('the cohort plugin', () => {
  it('is registered by the package next to the Progress plugin', () => {
    expect(plugins.map(p => p.id)).toContain(COHORT_PLUGIN_ID);
  });

  it('adds nothing for a student (403)', async () => {
    const { app, commands, added } = makeApp();
    const palette = { addItem: jest.fn() };
    const api = fakeApi({ getCohort: jest.fn(forbidden) });
    expect(await setUpCohort(app, api, palette as unknown as ICommandPalette)).toBe(false);
    expect(commands.hasCommand(COHORT_COMMAND)).toBe(false);
    expect(palette.addItem).not.toHaveBeenCalled();
    expect(added).toEqual([]);
  });

  it('adds nothing when the server cannot say', async () => {
    const { app, commands } = makeApp();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const api = fakeApi({ getCohort: jest.fn(() => Promise.reject(new TrackerApiError(500, 'boom'))) });
    expect(await setUpCohort(app, api, null)).toBe(false);
    expect(commands.hasCommand(COHORT_COMMAND)).toBe(false);
    warn.mockRestore();
  });

  it('gives an instructor the command, which opens one view in the main area', async () => {
    const { app, commands, added } = makeApp();
    const palette = { addItem: jest.fn() };
    const api = fakeApi();
    expect(await setUpCohort(app, api, palette as unknown as ICommandPalette)).toBe(true);
    expect(commands.label(COHORT_COMMAND)).toBe('Cohort view');
    expect(palette.addItem).toHaveBeenCalledWith({ command: COHORT_COMMAND, category: 'Course' });

    await commands.execute(COHORT_COMMAND);
    await commands.execute(COHORT_COMMAND);
    expect(added.map(a => a.area)).toEqual(['main']);
    // the probe's report is shown: no second request for it
    expect(api.getCohort).toHaveBeenCalledTimes(1);
    added[0].widget.dispose();
  });
});

describe('CohortModel', () => {
  it('keeps the last report when a refresh fails, and says why', async () => {
    const api = fakeApi();
    const model = makeModel(api, makeCohort());
    expect(model.status).toBe('ready');
    api.getCohort.mockImplementationOnce(() => Promise.reject(new TrackerApiError(500, 'database locked')));
    await model.refresh();
    expect(model.status).toBe('ready');
    expect(model.error).toBe('database locked');
    expect(model.report?.students).toHaveLength(3);
    await model.refresh();
    expect(model.error).toBeNull();
  });

  it('loads failure messages once per test cell', async () => {
    const api = fakeApi();
    const model = makeModel(api, makeCohort());
    const cell = makeCohort().failing[0];
    await model.loadFailures(cell);
    await model.loadFailures(cell);
    expect(api.getCohortFailures).toHaveBeenCalledTimes(1);
    expect(api.getCohortFailures).toHaveBeenCalledWith(M1, '01_ex', 'test_squares');
    expect(model.failures(`${M1}/01_ex/test_squares`)).toEqual({ status: 'ready', failures: FAILURES });
  });
});

describe('cohortCell', () => {
  it('reads a student\'s cell through the table of distinct cells', () => {
    const report = makeCohort();
    expect(cohortCell(report, 'bob', 2)).toEqual({ status: 'shared', value: true, satisfied: true });
    expect(cohortCell(report, 'alice', 1)).toBe(cohortCell(report, 'bob', 1)); // one cell, shared
    expect(cohortCell(report, 'carol', 0)?.status).toBe('not_graded');
    expect(cohortCell(report, 'nobody', 0)).toBeUndefined();
    expect(cohortCell(report, 'alice', 7)).toBeUndefined();
  });
});

describe('describeCell', () => {
  it('shows scores, ticks, private and shared values', () => {
    expect(describeCell({ status: 'graded', satisfied: false, score: 0, max_score: 2 }).text).toBe('0/2');
    expect(describeCell({ status: 'graded', satisfied: true }).className).toBe('jp-mod-pass');
    expect(describeCell({ status: 'private' }).title).toContain('private');
    expect(describeCell({ status: 'shared', value: 'Bob', satisfied: true }).text).toBe('Bob');
    expect(describeCell(undefined).text).toBe('–');
  });
});

describe('CohortView', () => {
  it('shows the students × items table, the histogram and the waiting submission', async () => {
    const model = makeModel(fakeApi(), makeCohort());
    render(<CohortView model={model} download={jest.fn()} />);

    const table = screen.getByRole('region', { name: 'Students and tracker items' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map(r => r.getAttribute('data-student'))).toEqual(['alice', 'bob', 'carol']);
    const bob = rows[1];
    expect(within(bob).getByText('0/2').className).toContain('jp-mod-fail');
    expect(within(bob).getByText('1/2')).toBeTruthy(); // done: "ran" only
    // entered items are hidden until asked for, then private unless shared
    expect(within(table).queryByText('reflect.q1')).toBeNull();
    fireEvent.click(within(table).getByRole('checkbox'));
    expect(within(table).getByText('reflect.q1')).toBeTruthy();
    expect(within(rows[0]).getByTitle('private (not shared by the student)')).toBeTruthy();

    const histogram = document.querySelector(`[data-assignment="${M1}"]`) as HTMLElement;
    expect(histogram.querySelectorAll('.jp-CourseCohort-bar')).toHaveLength(10);
    expect(histogram.textContent).toContain('2 graded');

    const waiting = screen.getByRole('region', { name: 'Waiting for grading' });
    expect(within(waiting).getByText('carol')).toBeTruthy();
    expect(within(waiting).getByText('never graded')).toBeTruthy();
  });

  it('opens a big cohort on its first assignment', () => {
    const big = makeCohort();
    const items = Array.from({ length: 60 }, (_, i) => ({
      id: `m${i % 2 ? 2 : 1}.auto.${i}`,
      kind: 'auto',
      text: `Item ${i}`,
      assignment: i % 2 ? 'm2' : M1,
      notebook: 'nb'
    }));
    big.items = items;
    big.students = Array.from({ length: 400 }, (_, i) => `s${i}`);
    big.matrix = {};
    const model = makeModel(fakeApi(), big);
    render(<CohortView model={model} download={jest.fn()} />);
    const table = screen.getByRole('region', { name: 'Students and tracker items' });
    expect((within(table).getByRole('combobox') as HTMLSelectElement).value).toBe(M1);
    expect(table.querySelectorAll('thead th[data-item-id]')).toHaveLength(30);
  });

  it('filters the table by student', () => {
    const model = makeModel(fakeApi(), makeCohort());
    render(<CohortView model={model} download={jest.fn()} />);
    fireEvent.change(screen.getByPlaceholderText('filter'), { target: { value: 'car' } });
    const table = screen.getByRole('region', { name: 'Students and tracker items' });
    expect(within(table).getAllByRole('row')).toHaveLength(2);
  });

  it('expands a failing test to its grouped messages', async () => {
    const api = fakeApi();
    const model = makeModel(api, makeCohort());
    render(<CohortView model={model} download={jest.fn()} />);
    const toggle = screen.getByRole('button', { name: /test_squares/ });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.textContent).toContain('1 of 2 failed (50%)');
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    await waitFor(() => expect(screen.getByText('AssertionError: squares(3) should be 9')).toBeTruthy());
    expect(screen.getByText('×1')).toBeTruthy();
  });

  it('shows a failure to read the messages', async () => {
    const api = fakeApi({ getCohortFailures: jest.fn(() => Promise.reject(new TrackerApiError(404, 'no such cell'))) });
    const model = makeModel(api, makeCohort());
    render(<CohortView model={model} download={jest.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: /test_squares/ }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('no such cell'));
  });

  it('exports the CSV the server makes', async () => {
    const download = jest.fn();
    const api = fakeApi();
    const model = makeModel(api, makeCohort());
    render(<CohortView model={model} download={download} />);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    });
    await until(() => download.mock.calls.length > 0);
    expect(download).toHaveBeenCalledWith('cohort.csv', 'student,m1.core.squares\nalice,2/2\n');
  });

  it('says when the first report could not be read', async () => {
    const api = fakeApi({ getCohort: jest.fn(() => Promise.reject(new TrackerApiError(0, 'Cannot reach the Jupyter server'))) });
    const model = makeModel(api);
    render(<CohortView model={model} download={jest.fn()} />);
    await act(() => model.refresh());
    expect(model.status).toBe('error');
    expect(screen.getByRole('alert').textContent).toContain('Cannot reach the Jupyter server');
  });
});
