/**
 * The only module that talks to the server. Everything else goes through `TrackerApi`, made with
 * the application's own server settings (`app.serviceManager.serverSettings`), so tests can
 * replace the whole server with a plain object that implements `ITrackerApi`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  API_NAMESPACE,
  Check,
  ConflictBody,
  ItemState,
  ItemValue,
  ISharingAnswer,
  ITrackerApi,
  Tracker
} from './tokens';
import type { ICohort, ICohortApi, ICohortFailures } from './cohort';

/**
 * A failed request. `status` is the HTTP status, or 0 when the server could not be reached at
 * all; `message` is the server's own `{"message": ...}` when it sent one.
 */
export class TrackerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The parsed JSON body of the error answer, when there was one. */
    readonly body: unknown = null
  ) {
    super(message);
    this.name = 'TrackerApiError';
  }

  /** A 409 on an item write carries the server's current state of the item. */
  get conflictState(): ItemState | null {
    if (this.status !== 409 || !isRecord(this.body)) {
      return null;
    }
    const state = (this.body as Partial<ConflictBody>).state;
    return isRecord(state) && typeof state.id === 'string' ? (state as ItemState) : null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How the answer body is read: JSON for the API, text for the Markdown export. */
export type ResponseType = 'json' | 'text';

/**
 * Call `/course-tracker/<path>` on the Jupyter server (with its auth token and XSRF cookie, which
 * `ServerConnection.makeRequest` adds) and return the decoded answer.
 */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  responseType: ResponseType,
  settings: ServerConnection.ISettings
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    // A network failure (server stopped, connection dropped): no status to report.
    throw new TrackerApiError(
      0,
      `Cannot reach the Jupyter server (${(error as Error).message ?? String(error)}).`
    );
  }

  const text = await response.text();
  if (!response.ok) {
    let body: unknown = null;
    let message = `${init.method ?? 'GET'} ${path} failed with HTTP ${response.status}`;
    try {
      body = JSON.parse(text);
      if (isRecord(body) && typeof body.message === 'string' && body.message) {
        message = body.message;
      }
    } catch {
      // Not JSON (e.g. an HTML error page from a proxy): keep the generic message.
      if (text && text.length < 300) {
        message = `${message}: ${text}`;
      }
    }
    throw new TrackerApiError(response.status, message, body);
  }

  if (responseType === 'text') {
    return text as unknown as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TrackerApiError(
      response.status,
      `The server answered ${path} with something that is not JSON: ${text.slice(0, 200)}`
    );
  }
}

/** Make a server-relative URL (such as `ItemState.feedback_url`) absolute. */
export function serverUrl(relative: string, settings: ServerConnection.ISettings): string {
  return URLExt.join(settings.baseUrl, relative);
}

/** The REST API of one Jupyter server (the one `serverSettings` points at). */
export class TrackerApi implements ITrackerApi, ICohortApi {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  /** The whole course tracker: manifest, states, assignments and summary. */
  getTracker(): Promise<Tracker> {
    return this._request<Tracker>('tracker');
  }

  /** Write a `self`, `choice` or `text` item; `rev` is the revision the edit was based on. */
  setItem(id: string, value: ItemValue, rev: number): Promise<ItemState> {
    return this._request<ItemState>(`items/${encodeURIComponent(id)}`, {
      method: 'PUT',
      body: JSON.stringify({ value, rev })
    });
  }

  /** Start "Check my work" for one assignment. */
  startCheck(assignment: string): Promise<Check> {
    return this._request<Check>('checks', {
      method: 'POST',
      body: JSON.stringify({ assignment })
    });
  }

  /** The current progress of a check. */
  getCheck(id: string): Promise<Check> {
    return this._request<Check>(`checks/${encodeURIComponent(id)}`);
  }

  /** The filled tracker as Markdown, in SEED_TRACKER.md's format. */
  exportMarkdown(): Promise<string> {
    return this._request<string>('export', {}, 'text');
  }

  // ---- the instructor's cohort view (cohort.ts); a student's server answers 403 to each ----

  /** Students × tracker items, score distributions, most-failed tests, waiting submissions. */
  getCohort(): Promise<ICohort> {
    return this._request<ICohort>('cohort');
  }

  /** The failure messages of one test cell across the cohort, grouped. */
  getCohortFailures(assignment: string, notebook: string, gradeId: string): Promise<ICohortFailures> {
    const parts = [assignment, notebook, gradeId].map(encodeURIComponent).join('/');
    return this._request<ICohortFailures>(`cohort/failures/${parts}`);
  }

  /** The students × items table as CSV (GET /cohort.csv). */
  exportCohortCsv(): Promise<string> {
    return this._request<string>('cohort.csv', {}, 'text');
  }

  // ---- end of the cohort view ----

  /** Share the learner's ticks and texts with the instructor (with their next submission), or stop. */
  setSharing(share: boolean): Promise<ISharingAnswer> {
    return this._request<ISharingAnswer>('sharing', {
      method: 'PUT',
      body: JSON.stringify({ share })
    });
  }

  private _request<T>(path: string, init: RequestInit = {}, type: ResponseType = 'json'): Promise<T> {
    return requestAPI<T>(path, init, type, this.serverSettings);
  }
}
