/**
 * The environ options every adapter takes are checked when the adapter is made, as `serve`
 * checked `maxHeaders` alone: a `serverPort` of `'abc'` went into every environ as
 * `SERVER_PORT` (and into the URLs the app builds), a `serverName` of `3` as a number, a
 * `maxHeaders` of `-1` answered 431 to every request under `toFetchHandler`, and a `log`
 * without `write` was dropped unsaid.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, serve } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { toFetchHandler } from 'tsgi/fetch';

const app: App = Request.application((req) => new Response(`${req.environ.SERVER_NAME} ${req.environ.SERVER_PORT} ${req.hostUrl}`));

const BAD: Array<[Record<string, unknown>, RegExp]> = [
  [{ serverName: 3 }, /serverName must be a non-empty string \(a host name or address\), got 3$/],
  [{ serverName: '' }, /serverName must be a non-empty string/],
  [{ serverPort: 'abc' }, /serverPort must be a port number from 1 to 65535, or its decimal string \('8000'\), got "abc" \(a string\)$/],
  [{ serverPort: -1 }, /serverPort must be a port number/],
  [{ serverPort: 70000 }, /serverPort must be a port number/],
  [{ serverPort: '8000 ' }, /serverPort must be a port number/],
  [{ serverPort: 80.5 }, /serverPort must be a port number/],
  [{ log: 3 }, /log must be a stream with a write\(line\) method/],
  [{ log: {} }, /log must be a stream with a write\(line\) method .*, got an object$/],
  [{ maxHeaders: -1 }, /maxHeaders must be a positive integer, got -1$/],
  [{ maxHeaders: 0 }, /maxHeaders must be a positive integer, got 0$/],
  [{ maxHeaders: '100' }, /maxHeaders must be a positive integer, got "100" \(a string\)$/],
];

describe('environ options of the wrong shape', () => {
  it.each(BAD)('toFetchHandler throws a TypeError at once for %j', (options, message) => {
    expect(() => toFetchHandler(app, options)).toThrow(TypeError);
    expect(() => toFetchHandler(app, options)).toThrow(new RegExp(`^toFetchHandler: ${message.source}`));
  });

  it.each(BAD)('toNodeHandler throws a TypeError at once for %j', (options, message) => {
    expect(() => toNodeHandler(app, options)).toThrow(TypeError);
    expect(() => toNodeHandler(app, options)).toThrow(new RegExp(`^toNodeHandler: ${message.source}`));
  });

  it.each(BAD)('serve rejects with a TypeError for %j, binding nothing', async (options, message) => {
    await expect(serve(app, { host: '127.0.0.1', port: 0, ...options })).rejects.toThrow(TypeError);
    await expect(serve(app, { host: '127.0.0.1', port: 0, ...options })).rejects.toThrow(new RegExp(`^serve: ${message.source}`));
  });
});

describe('environ options of the right shape', () => {
  it('serve puts a serverName and a serverPort given as a decimal string into the environ, over a socket', async () => {
    const lines: string[] = [];
    const server = await serve(app, { host: '127.0.0.1', port: 0, serverName: 'app.example', serverPort: '8080', maxHeaders: 20, log: { write: (line) => lines.push(line) } });
    try {
      const res = await fetch(`${server.url}/`);
      expect([res.status, await res.text()]).toEqual([200, `app.example 8080 ${server.url}`]);
    } finally {
      await server.close();
    }
    expect(lines).toEqual([]);
  });

  it('toFetchHandler takes a serverPort number and a log with write', async () => {
    const handler = toFetchHandler(app, { serverName: '::1', serverPort: 443, log: { write: () => true }, maxHeaders: 100 });
    const res = await handler(new globalThis.Request('http://a.test/'));
    expect(await res.text()).toBe('::1 443 http://a.test');
  });
});
