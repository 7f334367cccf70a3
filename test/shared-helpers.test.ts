import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Environ, Request } from 'tsgi';
import { joinFieldValues } from '../src/gateway/header-keys.ts';
import { checkChunk, closeBody } from '../src/gateway/body.ts';
import { logError, requestLine } from '../src/gateway/log.ts';

describe('checkChunk', () => {
  it('answers a Uint8Array (or Buffer) itself', () => {
    const bytes = new Uint8Array([1, 2]);
    const buffer = Buffer.from('x');
    expect(checkChunk(bytes)).toBe(bytes);
    expect(checkChunk(buffer)).toBe(buffer);
  });

  it('throws TypeError naming the type of anything else', () => {
    expect(() => checkChunk('text')).toThrow(new TypeError('body chunk is not a Uint8Array (string): encode text with new TextEncoder().encode(text), or answer a Response, which takes a string'));
    expect(() => checkChunk(null)).toThrow(/\(null\)/);
    expect(() => checkChunk(new ArrayBuffer(1))).toThrow(/\(ArrayBuffer\)/);
  });
});

describe('joinFieldValues', () => {
  it('joins Cookie with "; " and every other field with ", "', () => {
    expect(joinFieldValues('HTTP_COOKIE', 'a=1', 'b=2')).toBe('a=1; b=2');
    expect(joinFieldValues('HTTP_ACCEPT', 'text/html', 'text/plain')).toBe('text/html, text/plain');
  });
});

describe('requestLine', () => {
  it('is METHOD, the target as sent (REQUEST_URI), and the protocol', () => {
    const environ = Request.blank('/caf%C3%A9?q=1', { method: 'POST' }).environ;
    environ.SERVER_PROTOCOL = 'HTTP/1.0';
    environ.SCRIPT_NAME = '/mounted'; // a mount below does not change what the client sent
    expect(requestLine(environ)).toBe('POST /caf%C3%A9?q=1 HTTP/1.0');
  });

  it('without REQUEST_URI, percent-encodes SCRIPT_NAME + PATH_INFO and adds the query', () => {
    const environ = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '/a b', PATH_INFO: '/é%', QUERY_STRING: 'x=1', SERVER_PROTOCOL: 'HTTP/1.1' };
    expect(requestLine(environ)).toBe('GET /a%20b/%C3%A9%25?x=1 HTTP/1.1');
    expect(requestLine({ ...environ, QUERY_STRING: '', PATH_INFO: '/\ud800' })).toBe('GET /a%20b/%EF%BF%BD HTTP/1.1');
  });

  it('is kept as received; logError escapes its control characters', () => {
    const environ = { ...Request.blank('/x').environ, REQUEST_URI: '/x\n[tsgi] forged' } as Environ;
    expect(requestLine(environ)).toBe(`GET /x\n[tsgi] forged ${environ.SERVER_PROTOCOL}`);
    const lines: string[] = [];
    logError({ write: (line) => lines.push(line) }, requestLine(environ), 'boom');
    expect(lines).toEqual([`[tsgi] GET /x\\x0a[tsgi] forged ${environ.SERVER_PROTOCOL}: boom\n`]);
  });
});

describe('logError', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes the formatted line to a LogStream', () => {
    const lines: string[] = [];
    logError({ write: (line) => lines.push(line) }, 'GET /a HTTP/1.1', 'boom');
    logError({ write: (line) => lines.push(line) }, 'GET /b HTTP/1.1', 'bang');
    expect(lines).toEqual(['[tsgi] GET /a HTTP/1.1: boom\n', '[tsgi] GET /b HTTP/1.1: bang\n']);
  });

  it('falls back to standard error when the target throws, and never throws itself', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const broken = {
      write() {
        throw new Error('log stream gone');
      },
    };
    expect(() => logError(broken, 'GET / HTTP/1.1', 'boom')).not.toThrow();
    expect(stderr).toHaveBeenCalledWith('[tsgi] GET / HTTP/1.1: boom\n');
  });

  it('writes to standard error without a target', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    logError(undefined, 'POST /x HTTP/1.0', 'oops');
    expect(stderr).toHaveBeenCalledWith('[tsgi] POST /x HTTP/1.0: oops\n');
  });
});

describe('closeBody', () => {
  it('settles once an async return() has finished', async () => {
    const order: string[] = [];
    let finish!: () => void;
    const iterator = {
      next: async () => ({ done: true as const, value: undefined }),
      return: () =>
        new Promise<IteratorResult<Uint8Array>>((resolve) => {
          finish = () => {
            order.push('returned');
            resolve({ done: true, value: undefined });
          };
        }),
    };
    const closed = closeBody(iterator).then(() => order.push('settled'));
    await Promise.resolve();
    expect(order).toEqual([]);
    finish();
    await closed;
    expect(order).toEqual(['returned', 'settled']);
  });

  it('never rejects: a failing return() goes to onError, even when onError throws', async () => {
    const errors: unknown[] = [];
    const rejecting = {
      next: async () => ({ done: true as const, value: undefined }),
      return: (): Promise<IteratorResult<Uint8Array>> => Promise.reject(new Error('async')),
    };
    const throwing = {
      next: () => ({ done: true as const, value: undefined }),
      return: (): IteratorResult<Uint8Array> => {
        throw new Error('sync');
      },
    };
    await expect(closeBody(rejecting, (error) => errors.push(error))).resolves.toBeUndefined();
    await expect(closeBody(throwing, (error) => errors.push(error))).resolves.toBeUndefined();
    await expect(
      closeBody(rejecting, () => {
        throw new Error('reporter');
      }),
    ).resolves.toBeUndefined();
    expect(errors.map((error) => (error as Error).message)).toEqual(['async', 'sync']);
  });

  it('settles at once for an iterator without return()', async () => {
    await expect(closeBody({ next: () => ({ done: true, value: undefined }) })).resolves.toBeUndefined();
  });
});
