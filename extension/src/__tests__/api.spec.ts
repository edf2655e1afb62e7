import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, serverUrl, TrackerApi, TrackerApiError } from '../api';

const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/lab-base/' });

/** The TrackerApiError a request fails with (fails the test if it succeeds or throws another). */
async function failure(request: Promise<unknown>): Promise<TrackerApiError> {
  const error = await request.then(
    () => null,
    (reason: unknown) => reason
  );
  if (!(error instanceof TrackerApiError)) {
    throw new Error(`expected a TrackerApiError, got ${String(error)}`);
  }
  return error;
}

function answer(status: number, body: string, contentType = 'application/json'): Response {
  return new Response(body, { status, headers: { 'Content-Type': contentType } });
}

describe('requestAPI', () => {
  let makeRequest: jest.SpyInstance;

  beforeEach(() => {
    makeRequest = jest.spyOn(ServerConnection, 'makeRequest');
  });

  afterEach(() => {
    makeRequest.mockRestore();
  });

  it('calls /course-tracker/<path> under the base URL and decodes JSON', async () => {
    makeRequest.mockResolvedValueOnce(answer(200, '{"course_id": "ml"}'));

    const result = await requestAPI<{ course_id: string }>('tracker', {}, 'json', settings);

    expect(result.course_id).toBe('ml');
    expect(makeRequest.mock.calls[0][0]).toBe('http://localhost:8888/lab-base/course-tracker/tracker');
  });

  it('returns text for the Markdown export', async () => {
    makeRequest.mockResolvedValueOnce(answer(200, '# Tracker\n- [x] done', 'text/markdown'));
    await expect(requestAPI<string>('export', {}, 'text', settings)).resolves.toBe(
      '# Tracker\n- [x] done'
    );
  });

  it("turns an error answer into a TrackerApiError with the server's message", async () => {
    makeRequest.mockResolvedValueOnce(answer(400, '{"message": "value must be a boolean"}'));

    const error = await failure(requestAPI('items/x', { method: 'PUT' }, 'json', settings));

    expect(error.status).toBe(400);
    expect(error.message).toBe('value must be a boolean');
    expect(error.conflictState).toBeNull();
  });

  it('exposes the server state of a 409 conflict', async () => {
    const state = { id: 'a.b', value: 'theirs', satisfied: true, rev: 5 };
    makeRequest.mockResolvedValueOnce(answer(409, JSON.stringify({ message: 'stale', state })));

    const error = await failure(requestAPI('items/a.b', { method: 'PUT' }, 'json', settings));

    expect(error.status).toBe(409);
    expect(error.conflictState).toEqual(state);
  });

  it('keeps a useful message when the error body is not JSON', async () => {
    makeRequest.mockResolvedValueOnce(answer(502, 'Bad Gateway', 'text/html'));

    const error = await failure(requestAPI('tracker', {}, 'json', settings));

    expect(error.status).toBe(502);
    expect(error.message).toContain('HTTP 502');
    expect(error.message).toContain('Bad Gateway');
  });

  it('reports an unreachable server with status 0', async () => {
    makeRequest.mockRejectedValueOnce(new TypeError('Failed to fetch'));

    const error = await failure(requestAPI('tracker', {}, 'json', settings));

    expect(error.status).toBe(0);
    expect(error.message).toContain('Failed to fetch');
  });

  it('rejects a success answer that is not JSON', async () => {
    makeRequest.mockResolvedValueOnce(answer(200, '<html>login</html>', 'text/html'));
    await expect(requestAPI('tracker', {}, 'json', settings)).rejects.toThrow(/not JSON/);
  });

  it('setItem sends the value and the revision it was based on', async () => {
    makeRequest.mockResolvedValueOnce(
      answer(200, '{"id": "m1.aha", "value": "x", "satisfied": true, "rev": 3}')
    );

    const state = await new TrackerApi(settings).setItem('m1.aha', 'x', 2);

    expect(state.rev).toBe(3);
    const [url, init] = makeRequest.mock.calls[0];
    expect(url).toMatch(/\/course-tracker\/items\/m1\.aha$/);
    expect(init.method).toBe('PUT');
    expect(JSON.parse(init.body)).toEqual({ value: 'x', rev: 2 });
  });
});

describe('serverUrl', () => {
  it('joins a relative URL to the base URL', () => {
    expect(serverUrl('course-tracker/feedback/m1/01_exercises', settings)).toBe(
      'http://localhost:8888/lab-base/course-tracker/feedback/m1/01_exercises'
    );
  });
});
