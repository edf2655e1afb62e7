/**
 * The Progress sidebar plugin: adds the tracker panel to the left sidebar, its commands to the
 * command palette ("Course" category), and applies the user's settings. It provides the
 * `ITrackerModel` token, so another plugin (the cohort view) can `requires: [ITrackerModel]`.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { serverUrl, TrackerApi } from './api';
import { cohortPlugin } from './cohortPlugin';
import { ITrackerActions } from './components/actions';
import { trackerIcon } from './icon';
import { TrackerModel } from './model';
import { revealGradedCell } from './reveal';
import { assignmentFolder, IOpenDocument, notebookPaths, saveBeforeCheck } from './save';
import { CommandIDs, EXPORT_PATH, ITrackerModel, PANEL_ID, PLUGIN_ID } from './tokens';
import { TrackerPanel } from './widget';

/** Where the panel sits among the left sidebar's tabs (file browser 100, ..., extensions 1000). */
const SIDEBAR_RANK = 850;

const PALETTE_CATEGORY = 'Course';

const plugin: JupyterFrontEndPlugin<ITrackerModel> = {
  id: PLUGIN_ID,
  description: "Shows the course's progress tracker, ticked from nbgrader results, in a sidebar.",
  autoStart: true,
  provides: ITrackerModel,
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer, IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    docManager?: IDocumentManager | null
  ): ITrackerModel => {
    const { commands, serviceManager, shell } = app;
    // Poll only after the settings are read, so the first interval is the user's.
    const api = new TrackerApi(serviceManager.serverSettings);
    const model = new TrackerModel({ api, autoStart: false });
    model.watchSaves(serviceManager.contents.fileChanged);
    if (docManager) {
      // The check grades the files on disk: save what the learner sees first.
      model.checks.setBeforeCheck(assignment => {
        const info = model.tracker?.assignments.find(a => a.id === assignment);
        const folder = assignmentFolder(model.tracker, assignment);
        return saveBeforeCheck(
          openDocuments(app, docManager),
          folder,
          info ? notebookPaths(folder, info) : [],
          serviceManager.contents
        );
      });
    }

    const actions: ITrackerActions = {
      openPath: path => void commands.execute('docmanager:open', { path }),
      openCell: (path, gradeId) =>
        void commands
          .execute('docmanager:open', { path })
          .then(widget => revealGradedCell(widget, gradeId))
          .catch(reason => console.error(`${PLUGIN_ID}: could not open ${path}`, reason)),
      resolveUrl: relative => serverUrl(relative, serviceManager.serverSettings),
      exportMarkdown: () => void commands.execute(CommandIDs.exportMarkdown)
    };
    const panel = new TrackerPanel(model, actions);
    shell.add(panel, 'left', { rank: SIDEBAR_RANK });
    restorer?.add(panel, PANEL_ID);

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Progress Tracker',
      caption: 'Fetch the latest progress and grades from the server',
      execute: () => model.refresh()
    });
    commands.addCommand(CommandIDs.exportMarkdown, {
      label: 'Export Progress Tracker as Markdown',
      caption: `Save the filled tracker as ${EXPORT_PATH} in the server root and open it`,
      execute: async () => {
        try {
          const markdown = await model.exportMarkdown();
          await serviceManager.contents.save(EXPORT_PATH, {
            type: 'file',
            format: 'text',
            content: markdown
          });
          await commands.execute('docmanager:open', {
            path: EXPORT_PATH,
            factory: 'Markdown Preview'
          });
        } catch (error) {
          await showErrorMessage('Could not export the progress tracker', error as Error);
        }
      }
    });
    commands.addCommand(CommandIDs.open, {
      label: 'Open Progress Tracker',
      caption: 'Show the course progress tracker in the left sidebar',
      icon: trackerIcon,
      execute: () => shell.activateById(PANEL_ID)
    });
    if (palette) {
      for (const command of [CommandIDs.open, CommandIDs.refresh, CommandIDs.exportMarkdown]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (!settingRegistry) {
      model.start();
      return model;
    }
    settingRegistry
      .load(PLUGIN_ID)
      .then(settings => {
        const apply = () => {
          model.pollInterval = settings.get('pollInterval').composite as number;
        };
        apply();
        settings.changed.connect(apply);
      })
      .catch(reason => {
        console.error(`${PLUGIN_ID}: could not load settings, using the defaults.`, reason);
      })
      .finally(() => model.start());
    return model;
  }
};

/** The documents open in the main area, each once (a document can have several views). */
function* openDocuments(app: JupyterFrontEnd, docManager: IDocumentManager): Generator<IOpenDocument> {
  const seen = new Set<unknown>();
  for (const widget of app.shell.widgets('main')) {
    const context = docManager.contextForWidget(widget);
    if (!context || seen.has(context) || context.isDisposed) {
      continue;
    }
    seen.add(context);
    yield {
      path: context.localPath,
      dirty: context.model.dirty,
      save: () => context.save()
    };
  }
}

export { plugin };
export default [plugin, cohortPlugin];
