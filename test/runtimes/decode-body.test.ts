/**
 * `decodeBody`, `accessLog`'s `redactQuery` and `body_bytes_read`, and `toFetchHandler`'s
 * `redactQuery` on Bun, Deno and workerd (docs/middleware-decode-body.md): each serves
 * test/runtimes/scripts/decode-body-app.ts and answers the probe's requests over a real
 * socket on 127.0.0.1 (test/runtimes/scripts/decode-body-probe.ts): coded JSON bodies reach
 * `req.json()` decoded (gzip, br, deflate, zstd), 60 000 bytes in several decoder chunks
 * (sent whole, and chunked in pieces) arrive whole, corrupt and cut-off gzip are 400s, a gzip
 * bomb a 413, an unknown coding a 415 naming the codings; the access line hides `?token=` and
 * counts the coded bytes read, the handler's error line hides it too; a client gone mid body
 * (plain or coded) fails the read with the reader's 400, not as corrupt data nor an app error. On workerd without
 * node:zlib (`no_nodejs_zlib`) the Worker stops as it loads, with decodeBody's one-line error.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';
import { SCRIPT_RUNTIMES, runScript } from './run-script.ts';
import { probe } from './scripts/decode-body-probe.ts';

const JSON_BODY = '{"hello":"world","n":[1,2,3]}';

/** What every runtime answers, but for zstd's line. */
function expectAnswers(lines: string[], zstd: string): void {
  expect(lines).toEqual([
    `gzip 200 - ${JSON_BODY}`,
    `br 200 - ${JSON_BODY}`,
    `deflate 200 - ${JSON_BODY}`,
    zstd,
    'large 200 - 60000',
    'streamed 200 - 60000',
    'corrupt 400 - 400 Bad Request',
    'cut 400 - 400 Bad Request',
    'bomb 413 - 413 Content Too Large',
    `unknown 415 ${zstd.startsWith('zstd 200') ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br'} 415 Unsupported Media Type`,
    'boom 500',
    'access 200 /json?token=[Redacted]&x=1 coded length',
    'gone /cut The request body could not be read completely.',
    'gone /cut-coded The request body could not be read completely.',
    'cut errors 0',
    'error [tsgi] GET /boom?token=[Redacted] HTTP/1.1: Error: boom',
  ]);
}

it.each(SCRIPT_RUNTIMES)('decodes, bounds and refuses coded bodies and redacts the logs under %s', async (runtime) => {
  const stdout = await runScript(runtime, 'decode-body.ts');
  expectAnswers(stdout.trim().split('\n'), `zstd 200 - ${JSON_BODY}`);
});

describe('workerd', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startWorkerd(fileURLToPath(new URL('./scripts/decode-body-app.ts', import.meta.url)), '/logged');
  });
  afterAll(() => server?.stop());

  it('decodes, bounds and refuses coded bodies and redacts the logs', async () => {
    expectAnswers(await probe(server.origin), `zstd 200 - ${JSON_BODY}`);
  });
});

it('stops a Worker whose node:zlib cannot decode (no_nodejs_zlib) as it loads, with one line naming the cause', async () => {
  // workerd's node:zlib without the nodejs_zlib flag has the functions, which throw when called:
  // every coded body was a 500. decodeBody makes each decoder once when it is built.
  const entry = fileURLToPath(new URL('./scripts/decode-body-app.ts', import.meta.url));
  const started = startWorkerd(entry, '/logged', ['nodejs_compat', 'no_nodejs_zlib']);
  await expect(started.then((server) => server.stop())).rejects.toThrow(
    /Uncaught TypeError: decodeBody: this runtime's node:zlib cannot decode gzip \(Compatibility flag "nodejs_zlib" is not enabled\)/,
  );
});
