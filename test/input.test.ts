/**
 * readInput: which errors while reading a body become 400 (the client's stream broke off) and
 * which pass through unchanged (bugs, HTTP exceptions); limits; a real client hanging up.
 */
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HTTPBadRequest, HTTPContentTooLarge, HTTPForbidden, Request, Response } from 'tsgi';
import { isInputError, readInput } from '../src/request/input.ts';
import { BufferedInput } from '../src/gateway/input.ts';
import { bytes, deferred, start } from './node-helpers.ts';
import { rejection } from './helpers.ts';

/** An input that yields `chunks`, then throws `error`. */
function failing(error: unknown, chunks = ['ab']): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) yield bytes(chunk);
      throw error;
    },
  };
}

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('readInput: errors while reading', () => {
  const streamErrors: Array<[string, Error]> = [
    ["Node's aborted request (ECONNRESET)", withCode('aborted', 'ECONNRESET')],
    ['a premature close', withCode('Premature close', 'ERR_STREAM_PREMATURE_CLOSE')],
    ['a broken pipe', withCode('write EPIPE', 'EPIPE')],
    ['a body the HTTP parser refused', withCode('Parse Error: Invalid character in chunk size', 'HPE_INVALID_CHUNK_SIZE')],
    ['an AbortError', new DOMException('This operation was aborted', 'AbortError')],
    ['a TimeoutError', new DOMException('timed out', 'TimeoutError')],
    ["an 'aborted' error without a code", new Error('aborted')],
  ];
  for (const [what, error] of streamErrors) {
    it(`${what} becomes 400 with the stream error as its cause`, async () => {
      expect(isInputError(error)).toBe(true);
      const thrown = await rejection(readInput(failing(error)));
      expect(thrown).toBeInstanceOf(HTTPBadRequest);
      expect((thrown as Error).cause).toBe(error);
    });
  }

  const otherErrors: Array<[string, unknown]> = [
    ['a TypeError from a buggy input wrapper', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a RangeError', new RangeError('Invalid array length')],
    ['an error of the backing store', new Error('database unavailable')],
    ['a thrown non-error', 'boom'],
    ['an error with an unrelated code', withCode('no such file', 'ENOENT')],
  ];
  for (const [what, error] of otherErrors) {
    it(`${what} passes through unchanged`, async () => {
      expect(isInputError(error)).toBe(false);
      expect(await rejection(readInput(failing(error)))).toBe(error);
    });
  }

  it('an HTTPException thrown by the input passes through unchanged', async () => {
    const forbidden = new HTTPForbidden('no uploads here');
    expect(await rejection(readInput(failing(forbidden)))).toBe(forbidden);
  });

  it('the limit answers 413 while reading, and before reading for a declared length', async () => {
    expect(await rejection(readInput(failing(new Error('unused'), ['abc', 'def']), 5))).toBeInstanceOf(HTTPContentTooLarge);
    let pulled = false;
    const untouched: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        pulled = true;
        yield bytes('x');
      },
    };
    expect(await rejection(readInput(untouched, 5, 6))).toBeInstanceOf(HTTPContentTooLarge);
    expect(pulled).toBe(false);
    expect(await readInput(new BufferedInput(bytes('abc')), 3)).toEqual(bytes('abc'));
  });
});

describe('readInput over a real socket', () => {
  it('a client that hangs up mid-body: Request.bytes() rejects with 400, caused by the reset', async () => {
    const outcome = deferred<unknown>();
    const reading = deferred();
    const server = await start(
      Request.application(async (req) => {
        reading.resolve();
        try {
          await req.bytes();
          outcome.resolve('read');
        } catch (error) {
          outcome.resolve(error);
          throw error;
        }
        throw new Error('unreachable');
      }),
    );
    const req = http.request(`${server.url}/up`, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Length': '100000' },
    });
    req.on('error', () => {});
    req.write('x'.repeat(1000));
    await reading.promise;
    req.destroy();
    const error = await outcome.promise;
    expect(error).toBeInstanceOf(HTTPBadRequest);
    expect(isInputError((error as Error).cause)).toBe(true);
  });
});

describe('readInput of a Node.js stream (the Node adapter\'s tsgi.input)', () => {
  it('reads a stream someone paused, chunk by chunk, whole', async () => {
    const stream = new PassThrough();
    stream.pause();
    stream.write('ab');
    setTimeout(() => stream.end('cd'), 5);
    expect(new TextDecoder().decode(await readInput(stream))).toBe('abcd');
  });

  it('answers an empty body for a stream already read to its end', async () => {
    const stream = new PassThrough();
    stream.end('ab');
    await readInput(stream);
    expect((await readInput(stream)).byteLength).toBe(0);
  });

  it('a stream that breaks off is a 400; a stream destroyed without an error too; a bug passes through', async () => {
    const reset = new PassThrough();
    setTimeout(() => reset.destroy(withCode('aborted', 'ECONNRESET')), 5);
    expect(await rejection(readInput(reset))).toBeInstanceOf(HTTPBadRequest);
    const closed = new PassThrough();
    setTimeout(() => closed.destroy(), 5);
    const error = await rejection(readInput(closed));
    expect(error).toBeInstanceOf(HTTPBadRequest);
    expect(isInputError((error as Error).cause)).toBe(true);
    const bug = new TypeError('a bug in a stream');
    const buggy = new PassThrough();
    setTimeout(() => buggy.destroy(bug), 5);
    expect(await rejection(readInput(buggy))).toBe(bug);
  });

  it('past maxBodySize: 413, the stream paused (not destroyed) and no listener left behind', async () => {
    const stream = new PassThrough();
    stream.write('abc');
    setTimeout(() => stream.write('def'), 5);
    expect(await rejection(readInput(stream, 5))).toBeInstanceOf(HTTPContentTooLarge);
    expect(stream.destroyed).toBe(false);
    expect(stream.isPaused()).toBe(true);
    expect(stream.listenerCount('data') + stream.listenerCount('end') + stream.listenerCount('close')).toBe(0);
  });

  it('over a real socket: a chunked body past req.bytes({ maxBodySize }) is answered 413', async () => {
    const server = await start(Request.application(async (req) => new Response(await req.bytes({ maxBodySize: 1000 }))));
    try {
      const answer = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${server.url}/up`, { method: 'POST', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write('x'.repeat(800));
        setTimeout(() => req.write('x'.repeat(800)), 10);
      });
      expect(answer).toBe(413);
    } finally {
      await server.close({ timeout: 0 });
    }
  });
});
