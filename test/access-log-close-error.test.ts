/**
 * accessLog and a body whose `return()` fails (a generator's `finally` that throws) when the
 * client leaves or the graceful shutdown cuts it: the failure is logged to `tsgi.errors`, as
 * the server logs it without accessLog, never dropped by the middleware in between (`tsgi
 * serve` wraps every app in accessLog).
 */
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import { accessLog } from 'tsgi/middleware';

/** How many times a {@link tickingWith} body's `finally` ran. */
let finallies = 0;

/** A stream of ticks whose `finally` throws (`abort`: the AbortError of a body stopping on `tsgi.signal`). */
const tickingWith = (abort: boolean): App => (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    try {
      for (;;) {
        yield new TextEncoder().encode('tick\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      finallies++;
      throw abort ? new DOMException('stopped', 'AbortError') : new Error('finally boom');
    }
  })();
};
const ticking = tickingWith(false);

const settle = async (errors: string[]) => {
  for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('accessLog over a body whose return() throws', () => {
  for (const wrapped of [false, true]) {
    const name = wrapped ? 'under accessLog' : 'without accessLog';
    it(`logs the failure when the client leaves (${name})`, async () => {
      const errors: string[] = [];
      const app = wrapped ? accessLog(ticking, { log: { write() {} } }) : ticking;
      const server = await serve(app, { port: 0, log: { write: (message: string) => void errors.push(message) } });
      try {
        const leaving = new AbortController();
        const res = await fetch(`${server.url}/ticks`, { signal: leaving.signal });
        await res.body!.getReader().read();
        leaving.abort();
        await settle(errors);
        expect(errors.join('')).toMatch(/^\[tsgi\] GET \/ticks HTTP\/1\.1.*: Error: finally boom/);
      } finally {
        await server.close({ timeout: 0 });
      }
    });

    it(`logs the failure when the shutdown cuts the stream (${name})`, async () => {
      const errors: string[] = [];
      const app = wrapped ? accessLog(ticking, { log: { write() {} } }) : ticking;
      const server = await serve(app, { port: 0, log: { write: (message: string) => void errors.push(message) } });
      const res = await fetch(`${server.url}/ticks`);
      const reading = res.text().catch(() => 'cut');
      await server.close({ timeout: 50 });
      expect(await reading).toBe('cut');
      expect(errors.join('')).toMatch(/^\[tsgi\] GET \/ticks HTTP\/1\.1.*: Error: finally boom/);
    });
  }

  it('logs no abort the body stops with as the client leaves (under accessLog)', async () => {
    const errors: string[] = [];
    const server = await serve(accessLog(tickingWith(true), { log: { write() {} } }), { port: 0, log: { write: (message: string) => void errors.push(message) } });
    try {
      const leaving = new AbortController();
      const res = await fetch(`${server.url}/ticks`, { signal: leaving.signal });
      await res.body!.getReader().read();
      const before = finallies;
      leaving.abort();
      // Once the body's finally threw its AbortError (not after a fixed 100 ms, which a loaded
      // machine could spend before the server saw the client go: nothing to log yet, a vacuous pass).
      for (let i = 0; i < 400 && finallies === before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(finallies).toBe(before + 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toEqual([]);
    } finally {
      await server.close({ timeout: 0 });
    }
  });
});
