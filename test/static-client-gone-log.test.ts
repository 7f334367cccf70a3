/**
 * A client that hangs up while a file is being opened (a slow layer in front, a cancelled
 * prefetch) is not an error of the app: `errors()` logs nothing for it, as for any answer the
 * client left before (docs/middleware-static.md, "Streaming").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { directoryApp, errors, fileApp } from 'tsgi/middleware';
import { deferred, sleep, start } from './node-helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-gone-'));
writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(300_000, 7));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `app` called only once the client has gone (a slow check in front of the files). */
function afterClientLeft(app: App, called: () => void): App {
  return async (environ, startResponse) => {
    const signal = environ['tsgi.signal'] as AbortSignal;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    const body = await app(environ, startResponse);
    called();
    return body;
  };
}

describe.each([
  ['fileApp', fileApp(path.join(dir, 'big.bin')), '/'],
  ['directoryApp', directoryApp(dir), '/big.bin'],
])('%s under errors(), the client gone before the first chunk', (_, files, target) => {
  it('logs no 500', async () => {
    const answered = deferred();
    const server = await start(errors(afterClientLeft(files, answered.resolve)));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(50);
    socket.destroy();
    await answered.promise;
    await sleep(100);
    expect(server.log.text).toBe('');
  });
});
