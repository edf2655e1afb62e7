import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { plugin } from '../index';
import { CommandIDs, ITrackerModel, PANEL_ID, PLUGIN_ID } from '../tokens';
import { TrackerPanel } from '../widget';
import { makeCheck, makeTracker, until } from './fixtures';

/** Just enough of JupyterLab for the plugin: a real command registry, a recording shell. */
function makeApp() {
  const commands = new CommandRegistry();
  const opened = jest.fn();
  commands.addCommand('docmanager:open', { execute: args => opened(args) });
  const added: Array<{ widget: Widget; area: string; options: unknown }> = [];
  const contents = {
    fileChanged: new Signal<unknown, Contents.IChangedArgs>({}),
    save: jest.fn(async (path: string) => ({ path })),
    get: jest.fn(async (path: string) => ({ path, last_modified: '2026-11-27T14:02:00Z' }))
  };
  const mainWidgets: Widget[] = [];
  const app = {
    commands,
    shell: {
      add: (widget: Widget, area: string, options: unknown) => added.push({ widget, area, options }),
      activateById: jest.fn(),
      widgets: () => mainWidgets[Symbol.iterator]()
    },
    serviceManager: { contents, serverSettings: ServerConnection.makeSettings() }
  };
  return { app: app as unknown as JupyterFrontEnd, commands, opened, added, contents, mainWidgets };
}

describe('the Progress plugin', () => {
  let makeRequest: jest.SpyInstance;
  const panels: Widget[] = [];

  beforeEach(() => {
    makeRequest = jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async url => {
      const path = String(url);
      if (path.includes('/course-tracker/checks')) {
        return new Response(JSON.stringify(makeCheck({ status: 'done', done: 3 })), { status: 200 });
      }
      if (path.includes('/course-tracker/export')) {
        return new Response('# ML Engineering Learning Progress Tracker\n', { status: 200 });
      }
      return new Response(JSON.stringify(makeTracker()), { status: 200 });
    });
  });

  afterEach(() => {
    makeRequest.mockRestore();
    while (panels.length) {
      panels.pop()!.dispose();
    }
  });

  function activate(docManager: IDocumentManager | null = null) {
    const fake = makeApp();
    const palette = { addItem: jest.fn() };
    const provided = plugin.activate(
      fake.app,
      null,
      palette as unknown as ICommandPalette,
      null,
      docManager
    );
    panels.push(...fake.added.map(a => a.widget));
    return { ...fake, palette, provided };
  }

  it('provides the tracker model token, so other plugins can require it', () => {
    expect(plugin.provides).toBe(ITrackerModel);
    const { added, provided } = activate();
    // The very model the sidebar shows, not a second one polling the server.
    expect(provided).toBe((added[0].widget as TrackerPanel).model);
  });

  it('asks the server the app is connected to', async () => {
    const { app, added } = activate();
    const panel = added[0].widget as TrackerPanel;
    await until(() => panel.model.status === 'ready');
    const baseUrl = app.serviceManager.serverSettings.baseUrl;
    expect(makeRequest.mock.calls[0][0]).toBe(`${baseUrl}course-tracker/tracker`);
    expect(makeRequest.mock.calls[0][2]).toBe(app.serviceManager.serverSettings);
  });

  it('is the plugin the settings schema belongs to', () => {
    expect(plugin.id).toBe(PLUGIN_ID);
    expect(plugin.autoStart).toBe(true);
  });

  it('adds the panel to the left sidebar and its commands to the palette', async () => {
    const { added, commands, palette } = activate();

    expect(added).toHaveLength(1);
    expect(added[0].area).toBe('left');
    expect(added[0].options).toEqual({ rank: 850 });
    const panel = added[0].widget as TrackerPanel;
    expect(panel.id).toBe(PANEL_ID);
    expect(panel.title.caption).toBe('Progress');

    for (const id of [CommandIDs.open, CommandIDs.refresh, CommandIDs.exportMarkdown]) {
      expect(commands.hasCommand(id)).toBe(true);
      expect(palette.addItem).toHaveBeenCalledWith({ command: id, category: 'Course' });
    }
    // Without a settings registry it starts polling at once.
    await until(() => panel.model.status === 'ready');
  });

  it('export writes progress-tracker.md through the contents API and opens it', async () => {
    const { commands, contents, opened } = activate();

    await commands.execute(CommandIDs.exportMarkdown);

    expect(contents.save).toHaveBeenCalledWith('progress-tracker.md', {
      type: 'file',
      format: 'text',
      content: '# ML Engineering Learning Progress Tracker\n'
    });
    expect(opened).toHaveBeenCalledWith({
      path: 'progress-tracker.md',
      factory: 'Markdown Preview'
    });
  });

  it('refreshes when a file is saved', async () => {
    const { added, contents } = activate();
    const panel = added[0].widget as TrackerPanel;
    await until(() => panel.model.status === 'ready');
    const before = makeRequest.mock.calls.length;

    contents.fileChanged.emit({ type: 'save', oldValue: null, newValue: { path: 'x.ipynb' } });

    await until(() => makeRequest.mock.calls.length > before, 3000);
  });

  it("saves the assignment's open notebooks with unsaved edits before a check", async () => {
    const order: string[] = [];
    const context = (localPath: string, dirty: boolean) => ({
      localPath,
      isDisposed: false,
      model: { dirty },
      save: jest.fn(async () => {
        order.push(`save ${localPath}`);
      })
    });
    const exercises = context('m1_data_engineering/01_exercises.ipynb', true);
    const elsewhere = context('notes/todo.ipynb', true);
    const contexts = new Map<Widget, unknown>();
    const docManager = { contextForWidget: (w: Widget) => contexts.get(w) };
    const { added, mainWidgets } = activate(docManager as unknown as IDocumentManager);
    for (const ctx of [exercises, elsewhere, exercises]) {
      const widget = new Widget();
      panels.push(widget);
      mainWidgets.push(widget);
      contexts.set(widget, ctx);
    }
    const model = (added[0].widget as TrackerPanel).model;
    await until(() => model.status === 'ready');
    makeRequest.mockClear();
    const requested = makeRequest.getMockImplementation()!;
    makeRequest.mockImplementation(async (url, init, settings) => {
      order.push(`${init?.method ?? 'GET'} ${String(url).split('course-tracker/')[1]}`);
      return requested(url, init, settings);
    });

    await model.checks.startCheck('m1_data_engineering');

    expect(exercises.save).toHaveBeenCalledTimes(1);
    expect(elsewhere.save).not.toHaveBeenCalled();
    expect(order.slice(0, 2)).toEqual(['save m1_data_engineering/01_exercises.ipynb', 'POST checks']);
    expect(model.checks.savedVersion('m1_data_engineering')).toEqual({
      saved: ['m1_data_engineering/01_exercises.ipynb'],
      savedAt: '2026-11-27T14:02:00.000Z'
    });
  });

  it('disposing the panel stops its model', () => {
    const { added } = activate();
    const panel = added[0].widget as TrackerPanel;
    panel.dispose();
    expect(panel.model.isDisposed).toBe(true);
  });
});
