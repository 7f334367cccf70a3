/**
 * `tsgi.signal` (`req.signal`) when the server itself ends an answer still being produced, over
 * real sockets: an event stream it ends at its graceful shutdown, the connections it cuts at
 * the shutdown's timeout (or `close({ timeout: 0 })`), a HEAD answered with the GET's fields
 * of a streamed body. The signal aborts then, with a reason that says so, so a quiet source
 * that waits on it alone stops at once instead of holding `close()` for its 2-s grace; a client
 * that leaves still aborts it with `client disconnected`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { aborted, expectClosedEarly, expectShutdown, quietSource, rawStreamSource } from './shutdown-signal-helpers.ts';
import { deferred, encoder, getFirstChunk, h2cGet, sleep, start, until } from './node-helpers.ts';

/** Milliseconds `promise` took to settle. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const begun = Date.now();
  await promise;
  return Date.now() - begun;
}

/** Well under the 2-s grace `close()` gives a body whose `return()` does not settle. */
const AT_ONCE = 1000;

describe('req.signal when close() ends an event stream', () => {
  it('aborts, saying the server shuts down, so a source waiting on it alone stops at once', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const server = await start(app);
    const { head, body } = await getFirstChunk(`${server.url}/events`);
    await waiting;
    const took = await timed(server.close({ timeout: 5000 }));
    expect(took).toBeLessThan(AT_ONCE);
    expect(await body).toBe('data: one\n\n');
    expect(head.complete).toBe(true);
    await cleaned;
    expectShutdown(await reason);
    expect(server.log.text).toBe('');
  });

  it('aborts for an event stream over HTTP/2 (h2c) too', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const server = await start(app, { http2: 'h2c' });
    const { session, stream, text, ended } = h2cGet(server.url, '/events');
    try {
      await waiting;
      await until(() => text() === 'data: one\n\n');
      const took = await timed(server.close({ timeout: 5000 }));
      await ended;
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(took).toBeLessThan(AT_ONCE);
      await cleaned;
      expectShutdown(await reason);
    } finally {
      session.close();
    }
  });

  it('is aborted already when the source reads it only after the server ended its stream', async () => {
    const gate = deferred();
    let late: AbortSignal | undefined;
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        yield encoder.encode('data: one\n\n');
        await gate.promise;
        late = environ['tsgi.signal'];
      })();
    };
    const server = await start(app);
    const { body } = await getFirstChunk(`${server.url}/events`);
    const closing = server.close({ timeout: 5000 });
    expect(await body).toBe('data: one\n\n');
    gate.resolve();
    await closing;
    expect(late?.aborted).toBe(true);
    expectShutdown(late?.reason);
  });
});

describe('req.signal when close() cuts what is still running at its timeout', () => {
  it('aborts with the shutdown reason, not client disconnected, for a stream cut at the timeout', async () => {
    const { app, reason, cleaned, waiting } = quietSource('application/octet-stream');
    const server = await start(app);
    const { head } = await getFirstChunk(`${server.url}/download`);
    await waiting;
    const cut = new Promise<void>((resolve) => head.on('aborted', () => resolve()));
    const took = await timed(server.close({ timeout: 200 }));
    await cut;
    expect(took).toBeLessThan(200 + AT_ONCE);
    await cleaned;
    expectShutdown(await reason);
    expect(server.log.text).toBe('');
  });

  it('aborts with the shutdown reason for a stream cut at the timeout over HTTP/2 (h2c)', async () => {
    const { app, reason, cleaned, waiting } = quietSource('application/octet-stream');
    const server = await start(app, { http2: 'h2c' });
    const { session, text } = h2cGet(server.url, '/download');
    try {
      await waiting;
      await until(() => text() === 'one');
      const took = await timed(server.close({ timeout: 200 }));
      expect(took).toBeLessThan(200 + AT_ONCE);
      await cleaned;
      expectShutdown(await reason);
    } finally {
      session.destroy();
    }
  });

  it('aborts with the shutdown reason for an app cut before it answered, at close({ timeout: 0 })', async () => {
    const reason = deferred<unknown>();
    const waiting = deferred();
    const app = Request.application(async (req) => {
      waiting.resolve();
      reason.resolve(await aborted(req.signal));
      return new Response('late');
    });
    const server = await start(app);
    const req = http.get(`${server.url}/slow`, { agent: false });
    req.on('error', () => {});
    await waiting.promise;
    const closing = server.close({ timeout: 5000 });
    await sleep(20);
    const took = await timed(server.close({ timeout: 0 }));
    await closing;
    expect(took).toBeLessThan(AT_ONCE);
    expectShutdown(await reason.promise);
  });

  it('still says client disconnected when the client leaves during the graceful shutdown', async () => {
    const { app, reason, cleaned, waiting } = quietSource('application/octet-stream');
    const server = await start(app);
    const req = http.get(`${server.url}/download`, { agent: false }, (res) => res.resume());
    req.on('error', () => {});
    await waiting;
    const closing = server.close({ timeout: 5000 });
    req.destroy();
    const took = await timed(closing);
    expect(took).toBeLessThan(AT_ONCE);
    await cleaned;
    const got = (await reason) as DOMException;
    expect(got.name).toBe('AbortError');
    expect(got.message).toBe('client disconnected');
  });
});

describe('req.signal when the server stops reading a body before its end for its own reasons', () => {
  it('aborts for a HEAD answered with the GET fields of a streamed body, so its source stops at once', async () => {
    const { app, reason, cleaned } = rawStreamSource();
    const server = await start(app);
    const status = await new Promise<number>((resolve, reject) => {
      const options = { method: 'HEAD', agent: false };
      const req = http.request(`${server.url}/`, options, (res) => resolve(res.statusCode!));
      req.on('error', reject).end();
    });
    expect(status).toBe(200);
    await cleaned;
    expectClosedEarly(await reason);
    await sleep(20);
    expect(server.log.text).toBe('');
  });
});
