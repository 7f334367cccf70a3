/**
 * wrapBody, the body watcher: which hook runs, once, and when the consumer hears of the end,
 * the failure or the early close when a hook answers a promise.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type BodyHooks, wrapBody } from 'tsgi/middleware';
import { rejection } from './helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: unknown): void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise job and I/O callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function* chunks(...texts: string[]): AsyncGenerator<Uint8Array> {
  for (const text of texts) yield bytes(text);
}

/** Hooks recording their calls in `log`. */
function recorder(log: string[], extra: BodyHooks = {}): BodyHooks {
  return {
    chunk: (chunk) => log.push(`chunk ${new TextDecoder().decode(chunk)}`),
    end: () => void log.push('end'),
    close: () => void log.push('close'),
    error: (error) => void log.push(`error ${(error as Error).message}`),
    ...extra,
  };
}

describe('wrapBody with hooks answering promises', () => {
  it('answers the last next() only after the end hook settled', async () => {
    const log: string[] = [];
    const gate = deferred();
    const it = wrapBody(chunks('a'), recorder(log, { end: () => (log.push('end'), gate.promise.then(() => void log.push('end settled'))) }));
    const iterator = (it as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const last = iterator.next().then((step) => log.push(`consumer done=${step.done}`));
    await settle();
    expect(log).toEqual(['chunk a', 'end']);
    gate.resolve();
    await last;
    expect(log).toEqual(['chunk a', 'end', 'end settled', 'consumer done=true']);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("re-throws the body's error only after the error hook settled", async () => {
    const log: string[] = [];
    const gate = deferred();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes('a');
      throw new Error('disk gone');
    }
    const hooks = recorder(log, { error: (error) => (log.push(`error ${(error as Error).message}`), gate.promise) });
    const iterator = (wrapBody(failing(), hooks) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    const failure = rejection(iterator.next()).then((error) => (log.push('consumer failed'), error));
    await settle();
    expect(log).toEqual(['chunk a', 'error disk gone']);
    gate.resolve();
    expect(((await failure) as Error).message).toBe('disk gone');
    expect(log).toEqual(['chunk a', 'error disk gone', 'consumer failed']);
  });

  it("on return(): the body's own return() first, the close hook's work after it, the consumer last", async () => {
    const log: string[] = [];
    const bodyGate = deferred();
    async function* slowToClose(): AsyncGenerator<Uint8Array> {
      try {
        yield bytes('a');
        yield bytes('b');
      } finally {
        log.push('body closing');
        await bodyGate.promise;
        log.push('body closed');
      }
    }
    const hooks = recorder(log, {
      close: (returned) => {
        log.push('close');
        return returned.then(() => void log.push('cleanup'));
      },
    });
    const iterator = (wrapBody(slowToClose(), hooks) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next();
    const closed = iterator.return!().then((step) => log.push(`consumer done=${step.done}`));
    await settle();
    // the generator's finally and the close hook have both run (in the order the engine
    // resumes the generator), but the cleanup waits for the body to be closed
    expect([...log].sort()).toEqual(['body closing', 'chunk a', 'close']);
    bodyGate.resolve();
    await closed;
    expect(log.slice(3)).toEqual(['body closed', 'cleanup', 'consumer done=true']);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("a hook's failure reaches the consumer in place of the finish", async () => {
    const endFails = wrapBody(chunks(), { end: () => Promise.reject(new Error('close failed')) }) as AsyncIterable<Uint8Array>;
    expect(((await rejection(endFails[Symbol.asyncIterator]().next())) as Error).message).toBe('close failed');
    const closeFails = wrapBody(chunks('a'), { close: () => Promise.reject(new Error('rm failed')) }) as AsyncIterable<Uint8Array>;
    expect(((await rejection(closeFails[Symbol.asyncIterator]().return!())) as Error).message).toBe('rm failed');
  });

  it('{ async: true } makes a sync body async so its hooks are waited for', async () => {
    const log: string[] = [];
    const gate = deferred();
    const body = wrapBody([bytes('a')], recorder(log, { end: () => gate.promise.then(() => void log.push('end settled')) }), { async: true });
    expect(Symbol.asyncIterator in body).toBe(true);
    const iterator = body[Symbol.asyncIterator]();
    await iterator.next();
    const last = iterator.next().then(() => log.push('consumer done'));
    await settle();
    expect(log).toEqual(['chunk a']);
    gate.resolve();
    await last;
    expect(log).toEqual(['chunk a', 'end settled', 'consumer done']);
  });
});

describe('wrapBody with plain hooks', () => {
  it('keeps a sync body sync: each step answers at once, not a promise', () => {
    const log: string[] = [];
    const body = wrapBody([bytes('a'), bytes('b')], recorder(log));
    expect(Symbol.asyncIterator in body).toBe(false);
    const iterator = (body as Iterable<Uint8Array>)[Symbol.iterator]();
    expect(iterator.next().done).toBe(false);
    expect(iterator.next().done).toBe(false);
    expect(iterator.next()).toEqual({ done: true, value: undefined });
    expect(iterator.return!()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['chunk a', 'chunk b', 'end']);
  });

  it("a sync body cannot wait: a hook's rejected promise goes to closeError", async () => {
    const lost: unknown[] = [];
    const body = wrapBody([bytes('a')], { end: () => Promise.reject(new Error('late')), closeError: (error) => lost.push(error) });
    const iterator = (body as Iterable<Uint8Array>)[Symbol.iterator]();
    iterator.next();
    expect(iterator.next().done).toBe(true);
    await settle();
    expect((lost[0] as Error).message).toBe('late');
  });

  it('closes the body when the chunk hook throws: the consumer gets the error and calls no return() after it', async () => {
    for (const async of [true, false]) {
      let closed = 0;
      function* endless(): Generator<Uint8Array> {
        try {
          for (;;) yield bytes('x');
        } finally {
          closed++;
        }
      }
      const body = wrapBody(endless(), { chunk: () => { throw new Error('refused'); } }, { async });
      const seen: unknown[] = [];
      try {
        for await (const chunk of body as AsyncIterable<Uint8Array>) seen.push(chunk);
      } catch (error) {
        seen.push((error as Error).message);
      }
      expect(seen).toEqual(['refused']);
      expect(closed).toBe(1);
    }
  });

  it('destroys a Node stream and cancels a ReadableStream on a return() before the first next() (docs/spec.md §8)', async () => {
    const stream = Readable.from([bytes('a')]);
    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(bytes('w')), cancel: () => void (cancelled = true) });
    for (const body of [stream, web as unknown as AsyncIterable<Uint8Array>]) {
      const log: string[] = [];
      await (wrapBody(body, recorder(log)) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return!();
      expect(log).toEqual(['close']);
    }
    expect(stream.destroyed).toBe(true);
    expect(cancelled).toBe(true);
  });

  it("closes the body's iterator on a return() before the first next(), and reports what it throws", async () => {
    const log: string[] = [];
    const lost: unknown[] = [];
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: true, value: undefined }),
        return: async () => {
          log.push('body return');
          throw new Error('return failed');
        },
      }),
    };
    const hooks = recorder(log, { close: (returned) => returned.then(() => void log.push('close settled')), closeError: (error) => lost.push(error) });
    const iterator = (wrapBody(body, hooks) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['body return', 'close settled']);
    expect((lost[0] as Error).message).toBe('return failed');
  });

  it('drops a chunk that arrives after an early close, and calls no second hook', async () => {
    const log: string[] = [];
    const gate = deferred();
    async function* slow(): AsyncGenerator<Uint8Array> {
      await gate.promise;
      yield bytes('late');
    }
    const iterator = (wrapBody(slow(), recorder(log)) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const pending = iterator.next();
    const closed = iterator.return!(); // settles once the generator's own return() has
    gate.resolve();
    await closed;
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['close']);
  });

  it("takes hooks that answer what a logger's write() answers (a boolean), and does not wait on it", async () => {
    const lines: string[] = [];
    const out = { write: (line: string): boolean => lines.push(line) > 0 }; // as Node's stream.write
    const hooks = {
      end: () => out.write('sent\n'),
      close: () => out.write('client left\n'),
      error: () => out.write('failed\n'),
    } satisfies BodyHooks; // a type error while the hooks had to answer void or a promise
    const ended = (wrapBody(chunks('a'), hooks) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await ended.next();
    expect(await ended.next()).toEqual({ done: true, value: undefined });
    const closed = (wrapBody(chunks('a', 'b'), hooks) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await closed.next();
    expect(await closed.return!()).toEqual({ done: true, value: undefined });
    expect(lines).toEqual(['sent\n', 'client left\n']);
  });

  it('a value that is not a body fails at the first next(), where the error hook sees it', async () => {
    const log: string[] = [];
    const body = wrapBody(42 as never, recorder(log));
    const error = (() => {
      try {
        (body as Iterable<Uint8Array>)[Symbol.iterator]().next();
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(TypeError);
    expect(log).toEqual([`error ${(error as Error).message}`]);
  });

  it('closeThrows hands what the body\'s own return() throws to whoever closes the wrapper, not to closeError, sync and async', async () => {
    const lost: unknown[] = [];
    const failing = new Error('release failed');
    function* syncBody(): Generator<Uint8Array> {
      try {
        yield bytes('a');
        yield bytes('b');
      } finally {
        throw failing;
      }
    }
    async function* asyncBody(): AsyncGenerator<Uint8Array> {
      try {
        yield bytes('a');
        yield bytes('b');
      } finally {
        throw failing;
      }
    }
    const sync = (wrapBody(syncBody(), { closeError: (error) => lost.push(error) }, { closeThrows: true }) as Iterable<Uint8Array>)[Symbol.iterator]();
    sync.next();
    expect(() => sync.return!()).toThrow(failing);
    expect(sync.return!()).toEqual({ done: true, value: undefined }); // once
    const async = (wrapBody(asyncBody(), { closeError: (error) => lost.push(error) }, { closeThrows: true }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await async.next();
    expect(await rejection(async.return!())).toBe(failing);
    expect(lost).toEqual([]);
    // Without the option, closeError hears of it and return() answers done.
    const quiet = (wrapBody(asyncBody(), { closeError: (error) => lost.push(error) }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await quiet.next();
    expect(await quiet.return!()).toEqual({ done: true, value: undefined });
    expect(lost).toEqual([failing]);
  });
});
