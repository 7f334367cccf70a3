/**
 * What a streamed body's `return()` throws when the server closes it early (the client left)
 * is written to `tsgi.errors` (docs/spec.md §6), also when the toolkit wrapped the body on the
 * way out: work run after the answer (`res.callOnClose`), a parsed form whose uploads are
 * removed once the body is done.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { bytes, start, within } from './node-helpers.ts';

/** A body that streams until closed, and whose `finally` throws. */
function failingFinally(): AsyncIterable<Uint8Array> {
  return (async function* () {
    try {
      for (;;) {
        yield bytes('tick\n');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      // eslint-disable-next-line no-unsafe-finally
      throw new Error('finally failed');
    }
  })();
}

/** Posts a small form, and hangs up once the answer's first bytes came. */
function postAndLeave(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', () => socket.destroy());
    socket.on('close', () => resolve());
    socket.on('error', () => {});
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b');
  });
}

const apps: Record<string, App> = {
  'a bare Response': Request.application(() => new Response(failingFinally())),
  'a Response with callOnClose work': Request.application(() => {
    const res = new Response(failingFinally());
    res.callOnClose(() => {});
    return res;
  }),
  'a Response after req.form()': Request.application(async (req) => {
    await req.form();
    return new Response(failingFinally());
  }),
};

describe("a body's failing return() is logged whatever wraps it", () => {
  for (const [kind, app] of Object.entries(apps)) {
    it(`logs it once for ${kind}, when the client leaves mid-body`, async () => {
      const server = await start(app);
      await postAndLeave(server.port);
      expect(await within(() => server.log.text.includes('finally failed'), 2000)).toBe(true);
      await server.close();
      expect(server.log.text.split('Error: finally failed').length - 1).toBe(1);
      expect(server.log.text).toContain('[tsgi] POST / HTTP/1.1');
    });
  }
});
