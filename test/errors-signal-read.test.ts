/**
 * `errors` reads the request's signal (`environ['tsgi.signal']`, which the Node adapter makes
 * when first read: an AbortController and a listener on the connection) only when an array
 * body's length is an error it may forgive (the client left first), not for an answer without
 * Content-Length nor for a HEAD answer's declared length. An outer layer counts the reads.
 * Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { type App, type Environ } from 'tsgi';
import { errors } from 'tsgi/middleware';
import { parseRaw, rawExchange, serveForSuite } from './node-helpers.ts';

let reads = 0;

/** Counts the reads of `tsgi.signal` below it, each handed the adapter's own signal. */
const countSignalReads = (app: App): App => (environ, startResponse) => {
  const own = Object.getOwnPropertyDescriptor(environ, 'tsgi.signal') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(environ) as object, 'tsgi.signal');
  Object.defineProperty(environ, 'tsgi.signal', {
    configurable: true,
    enumerable: true,
    get(this: Environ) {
      reads++;
      return own?.get ? own.get.call(this) : own?.value;
    },
  });
  return app(environ, startResponse);
};

const inner: App = (environ, startResponse) => {
  if (environ.PATH_INFO === '/length') {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
    return environ.REQUEST_METHOD === 'HEAD' ? [] : [new TextEncoder().encode('hello')];
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('hello')];
};

describe('errors and the request signal', () => {
  const served = serveForSuite(countSignalReads(errors(inner)));
  const exchange = async (method: string, target: string) =>
    parseRaw((await rawExchange(served.port, `${method} ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);

  it('is not read for an array body without Content-Length, nor for a HEAD answer', async () => {
    reads = 0;
    const plain = await exchange('GET', '/');
    expect([plain.status, plain.rest.endsWith('hello')]).toEqual([200, true]);
    const head = await exchange('HEAD', '/length');
    expect([head.status, head.header('content-length')]).toEqual([200, '5']);
    const whole = await exchange('GET', '/length');
    expect([whole.status, whole.rest]).toEqual([200, 'hello']);
    expect(reads).toBe(0);
  });
});
