/**
 * A log stream whose `write` answers a promise (`LogStream.write` returns `unknown`: a
 * `FileHandle`'s `appendFile`, a transport's async `write`) and whose promise rejects (a full
 * disk) fails as one that throws: `accessLog` reports it on `tsgi.errors`, the server's error
 * line falls back to standard error. Never an unhandled rejection, which ends the Node process.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Request, Response } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { rawExchange, start, until } from './node-helpers.ts';
import { recordUnhandledRejections } from './helpers.ts';

const diskFull = { write: async (_line: string): Promise<void> => Promise.reject(new Error('disk full')) };

const unhandled = recordUnhandledRejections();
afterEach(() => {
  vi.restoreAllMocks();
});
/** Lets a rejection left unhandled be reported (after the microtasks of this turn). */
const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('a log stream whose write rejects', () => {
  it("is accessLog's failure to write its line, logged on tsgi.errors (socket)", async () => {
    const ok = Request.application(() => new Response('ok'));
    const server = await start(accessLog(ok, { log: diskFull }));
    const { raw } = await rawExchange(server.port, 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    await until(() => server.log.text.includes('disk full'));
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/a HTTP\/1\.1 \(accessLog could not write its line\): Error: disk full\n/);
    await settled();
    expect(unhandled).toEqual([]);
  });

  it("sends the server's error line to standard error instead (socket)", async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const failing = Request.application(() => {
      throw new Error('boom');
    });
    const server = await start(failing, { log: diskFull });
    const { raw } = await rawExchange(server.port, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 500 /);
    await until(() => stderr.mock.calls.some(([line]) => String(line).includes('Error: boom')));
    expect(String(stderr.mock.calls.find(([line]) => String(line).includes('Error: boom'))![0])).toMatch(/^\[tsgi\] GET \/b HTTP\/1\.1( 500)?: Error: boom\n/);
    await settled();
    expect(unhandled).toEqual([]);
  });
});
