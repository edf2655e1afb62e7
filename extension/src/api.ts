/**
 * The only module that talks to the server. Everything else goes through these typed functions,
 * so tests can replace the whole server with a plain object that implements `ITrackerApi`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  API_NAMESPACE,
  Check,
  ConflictBody,
  ItemState,
  ItemValue,
  Tracker
} from './tokens';

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
  responseType: ResponseType = 'json',
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
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
export function serverUrl(
  relative: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, relative);
}

/** The whole course tracker: manifest, states, assignments and summary. */
export function getTracker(): Promise<Tracker> {
  return requestAPI<Tracker>('tracker');
}

/** Write a `self`, `choice` or `text` item; `rev` is the revision the edit was based on. */
export function setItem(id: string, value: ItemValue, rev: number): Promise<ItemState> {
  return requestAPI<ItemState>(`items/${encodeURIComponent(id)}`, {
    method: 'PUT',
    body: JSON.stringify({ value, rev })
  });
}

/** Start "Check my work" for one assignment. */
export function startCheck(assignment: string): Promise<Check> {
  return requestAPI<Check>('checks', {
    method: 'POST',
    body: JSON.stringify({ assignment })
  });
}

/** The current progress of a check. */
export function getCheck(id: string): Promise<Check> {
  return requestAPI<Check>(`checks/${encodeURIComponent(id)}`);
}

/** The filled tracker as Markdown, in SEED_TRACKER.md's format. */
export function exportMarkdown(): Promise<string> {
  return requestAPI<string>('export', {}, 'text');
}

/** The API as one object, so the model can be given a fake one in tests. */
export interface ITrackerApi {
  getTracker(): Promise<Tracker>;
  setItem(id: string, value: ItemValue, rev: number): Promise<ItemState>;
  startCheck(assignment: string): Promise<Check>;
  getCheck(id: string): Promise<Check>;
  exportMarkdown(): Promise<string>;
}

/** The real API, talking to the Jupyter server this page was served from. */
export const serverApi: ITrackerApi = {
  getTracker,
  setItem,
  startCheck,
  getCheck,
  exportMarkdown
};
