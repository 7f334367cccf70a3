/**
 * `tsgi.signal` (`req.signal`) under the `TestClient` when the client's server side ends an
 * answer itself, as under `serve()` (test/node-shutdown-signal.test.ts): an event stream its
 * `shutdownSignal` ends, read as it comes or whole, and a HEAD answered with the GET's fields
 * of a streamed body. The signal aborts then, with the reason `serve()` gives, so a quiet
 * source that waits on it alone stops at once; a test that closes a live answer still aborts
 * it with `client disconnected`. (`serve()`'s cut at its graceful timeout has no counterpart:
 * the client has no connections to cut.)
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Response } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { expectClosedEarly, expectShutdown, lateSignalReader, quietSource, rawSleepingSource, rawStreamSource } from './shutdown-signal-helpers.ts';

/** Well under a test's timeout: what "at once" allows. */
const AT_ONCE = 1000;

/** `promise`, or `'hung'` if it has not settled after {@link AT_ONCE}. */
function atOnce<T>(promise: Promise<T>): Promise<T | 'hung'> {
  return Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(resolve, AT_ONCE, 'hung'))]);
}

describe('req.signal when the TestClient\'s shutdownSignal ends an event stream', () => {
  it('aborts, saying the server shuts down, for a stream read live, so a source waiting on it alone stops at once', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const stopping = new AbortController();
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const res = await client.get('/events', { buffered: false });
    await waiting;
    stopping.abort();
    expect(await atOnce(res.text())).toBe('data: one\n\n');
    expect(await atOnce(cleaned)).toBeUndefined();
    expectShutdown(await reason);
    expect(res.errors).toBe('');
  });

  it('aborts for a stream under compress too, which ends it with its coding finished, so its finally runs', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const stopping = new AbortController();
    const client = new TestClient(compress(app), { shutdownSignal: stopping.signal });
    const res = await client.get('/events', { buffered: false, headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    await waiting;
    stopping.abort();
    const body = await atOnce(res.bytes());
    expect(body !== 'hung' && gunzipSync(body).toString()).toBe('data: one\n\n');
    expect(await atOnce(cleaned)).toBeUndefined();
    expectShutdown(await reason);
    expect(res.errors).toBe('');
  });

  it('aborts for a stream read whole (buffered), and the call answers the events sent until then', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const stopping = new AbortController();
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const answer = client.get('/events');
    await waiting;
    stopping.abort();
    const res = await atOnce(answer);
    expect(res).not.toBe('hung');
    expect(res !== 'hung' && res.textBody).toBe('data: one\n\n');
    expect(await atOnce(cleaned)).toBeUndefined();
    expectShutdown(await reason);
  });

  it('is aborted already when the source reads it only after the stream was ended', async () => {
    const { app, expectAbortedLate } = lateSignalReader();
    const stopping = new AbortController();
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const res = await client.get('/events', { buffered: false });
    stopping.abort();
    expect(await res.text()).toBe('data: one\n\n');
    await expectAbortedLate();
  });

  it('still says client disconnected when the test closes a live answer during the shutdown', async () => {
    const { app, reason, cleaned, waiting } = quietSource('application/octet-stream');
    const stopping = new AbortController();
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const res = await client.get('/download', { buffered: false });
    await waiting;
    stopping.abort(); // not an event stream: the shutdown leaves it to run
    await res.close();
    await cleaned;
    const got = (await reason) as DOMException;
    expect(got.name).toBe('AbortError');
    expect(got.message).toBe('client disconnected');
  });
});

describe('req.signal when the TestClient stops reading a body before its end for its own reasons', () => {
  it('aborts for a HEAD answered with the GET fields of a streamed body, so its source stops at once', async () => {
    const { app, reason, cleaned } = rawStreamSource();
    // Without lint, as under `serve()`: it would warn of the bytes the HEAD's body produces.
    const client = new TestClient(app, { lint: false });
    const res = await atOnce(client.head('/'));
    expect(res).not.toBe('hung');
    expect(res !== 'hung' && res.statusCode).toBe(200);
    await cleaned;
    expectClosedEarly(await reason);
    expect(res !== 'hung' && res.errors).toBe('');
  });

  it('logs nothing for a HEAD whose source stops by throwing the abort (a sleep given the signal), as serve() does', async () => {
    const { app, cleaned } = rawSleepingSource();
    // Without allowErrors: a logged AbortError would fail the call, where serve() logs nothing.
    const res = await atOnce(new TestClient(app, { lint: false }).head('/'));
    expect(res).not.toBe('hung');
    expect(res !== 'hung' && res.statusCode).toBe(200);
    expect(res !== 'hung' && res.errors).toBe('');
    await cleaned;
  });
});
