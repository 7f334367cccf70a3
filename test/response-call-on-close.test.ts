/**
 * `res.callOnClose(fn)` (Werkzeug's `Response.call_on_close`), over real sockets: the work runs
 * once the answer's last byte is written, a failure there is logged and the server keeps
 * serving, `close()` waits for work still running (within its timeout), and the `TestClient`
 * waits for it too.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { type App, Request, Response, compose, defineMiddleware } from 'tsgi';
import { errors, requestId } from 'tsgi/middleware';
import { TestClient, TestClientError } from 'tsgi/testing';
import { deferred, sleep, start, until, within } from './node-helpers.ts';

describe('callOnClose over a socket', () => {
  it('runs after the whole answer reached the client, not before', async () => {
    const gate = deferred();
    const events: string[] = [];
    const app = Request.application(() => {
      const res = Response.json({ received: true }, { status: 202 });
      res.callOnClose(async () => {
        events.push('work started');
        await gate.promise;
        events.push('work done');
      });
      return res;
    });
    const server = await start(app);
    try {
      const answer = await fetch(`${server.url}/hook`, { method: 'POST', body: '{}' });
      expect(answer.status).toBe(202);
      expect(await answer.json()).toEqual({ received: true });
      await until(() => events.length > 0);
      expect(events).toEqual(['work started']);
      gate.resolve();
      await until(() => events.length === 2);
    } finally {
      await server.close();
    }
  });

  it('runs under defineMiddleware layers, awaited and hooks, which hand the response up as a copy', async () => {
    const ran: string[] = [];
    const handler = Request.application((req) => {
      const res = new Response('ok\n');
      res.callOnClose(() => void ran.push(req.path));
      return res;
    });
    const awaited = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      res.headers.set('X-Layer', 'awaited');
      return res;
    });
    const hooks = defineMiddleware({ after: (_req, res) => void res.headers.set('X-Hook', 'yes') });
    const server = await start(hooks(awaited(handler)));
    try {
      const answer = await fetch(`${server.url}/layered`);
      expect([answer.headers.get('x-layer'), answer.headers.get('x-hook'), await answer.text()]).toEqual(['awaited', 'yes', 'ok\n']);
      await until(() => ran.length > 0);
      expect(ran).toEqual(['/layered']);
    } finally {
      await server.close();
    }
  });

  it('logs what the work throws, with the request line, and the server keeps serving', async () => {
    const app = Request.application((req) => {
      const res = new Response('ok\n');
      if (req.path === '/fail') res.callOnClose(() => Promise.reject(new Error('queue is down')));
      return res;
    });
    const server = await start(app);
    try {
      expect((await fetch(`${server.url}/fail`)).status).toBe(200);
      await until(() => server.log.text.includes('queue is down'));
      expect(server.log.text).toContain('GET /fail');
      expect(await (await fetch(`${server.url}/next`)).text()).toBe('ok\n');
    } finally {
      await server.close();
    }
  });

  it('names the request id of requestId in the line, as errors does', async () => {
    const handler = Request.application(() => {
      const res = Response.json({ received: true }, { status: 202 });
      res.callOnClose(() => Promise.reject(new Error('queue is down')));
      return res;
    });
    const server = await start(compose(requestId, errors)(handler));
    try {
      const answer = await fetch(`${server.url}/hook`, {
        method: 'POST',
        body: '{}',
        headers: { 'X-Request-Id': 'delivery-42' },
      });
      expect([answer.status, answer.headers.get('x-request-id')]).toEqual([202, 'delivery-42']);
      await until(() => server.log.text.includes('queue is down'));
      expect(server.log.text).toContain(
        '[tsgi] POST /hook HTTP/1.1 (callOnClose) request_id=delivery-42: Error: queue is down',
      );
    } finally {
      await server.close();
    }
  });

  it('close() waits for the work still running, and stops waiting at its timeout', async () => {
    const work = { finished: false };
    const server = await start(slowWork(work));
    expect((await fetch(server.url)).status).toBe(200);
    await server.close({ timeout: 5000 });
    expect(work.finished).toBe(true);

    const stuck = await start(stuckWork());
    expect((await fetch(stuck.url)).status).toBe(200);
    const begun = Date.now();
    await stuck.close({ timeout: 200 });
    expect(Date.now() - begun).toBeLessThan(2000);
  });

  it('says in its log when it stopped waiting for work, nothing when all of it ended', async () => {
    const work = { finished: false };
    const server = await start(slowWork(work));
    expect((await fetch(server.url)).status).toBe(200);
    await server.close({ timeout: 5000 });
    expect(server.log.text).toBe('');

    const stuck = await start(stuckWork());
    expect((await fetch(stuck.url)).status).toBe(200);
    expect((await fetch(stuck.url)).status).toBe(200);
    await stuck.close({ timeout: 200 });
    expect(stuck.log.text).toBe(
      'tsgi: the graceful close stopped waiting at its timeout for the work still running after ' +
        'the answers (res.callOnClose, tsgi.wait_until, onUpgradeClosed, onRefused): it ends with the process\n',
    );
  });
});

describe('callOnClose and close({ timeout: Infinity })', () => {
  it('waits for the work however long it takes, as for a finite timeout (it gave up at once)', async () => {
    const work = { finished: false };
    const server = await start(slowWork(work));
    expect((await fetch(server.url)).status).toBe(200);
    await server.close({ timeout: Infinity });
    expect(work.finished).toBe(true);

    // A shorter timeout given then ends the wait, as it moves the cut forward.
    const stuck = await start(stuckWork());
    expect((await fetch(stuck.url)).status).toBe(200);
    const closing = stuck.close({ timeout: Infinity });
    await sleep(100);
    const begun = Date.now();
    await stuck.close({ timeout: 200 });
    await closing;
    expect(Date.now() - begun).toBeLessThan(2000);
  });
});

describe('callOnClose under a middleware that does not send the response it got', () => {
  it('runs once the answer is sent when the layer reads the response to rewrite it, or answers something else', async () => {
    const events: string[] = [];
    const handler = Request.application((req) => {
      const res = new Response('hello\n');
      res.callOnClose(() => void events.push(`work ${req.path}`));
      return res;
    });
    const rewrite = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      if (req.path === '/other') return new Response('other\n');
      return new Response((await res.text()).toUpperCase());
    });
    const server = await start(rewrite(handler));
    try {
      expect(await (await fetch(`${server.url}/read`)).text()).toBe('HELLO\n');
      await until(() => events.length === 1);
      expect(await (await fetch(`${server.url}/other`)).text()).toBe('other\n');
      await until(() => events.length === 2);
      expect(events).toEqual(['work /read', 'work /other']);
    } finally {
      await server.close();
    }
  });
});

describe('callOnClose on a response served for many requests', () => {
  it('runs its calls each time it is served, under a middleware as alone; a HEAD through a layer runs them after the answer', async () => {
    let runs = 0;
    const page = new Response('same for all\n');
    page.callOnClose(() => void runs++);
    const handler = Request.application(() => page);
    const layer = defineMiddleware({ after: (_req, res) => void res.headers.set('X-Layer', 'yes') });
    const events: string[] = [];
    const slow = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      await sleep(30);
      events.push('layer answered');
      return res;
    });
    const head = Request.application(() => {
      const res = new Response('x\n');
      res.callOnClose(() => void events.push('work'));
      return res;
    });
    const server = await start(Request.application((req) => (req.path === '/head' ? req.getResponse(slow(head)) : req.getResponse(req.path === '/layer' ? layer(handler) : handler))));
    try {
      for (const path of ['/alone', '/layer', '/layer', '/alone']) await (await fetch(`${server.url}${path}`)).text();
      await until(() => runs === 4);
      await sleep(20);
      expect(runs).toBe(4);
      expect((await fetch(`${server.url}/head`, { method: 'HEAD' })).status).toBe(200);
      await until(() => events.length === 2);
      expect(events).toEqual(['layer answered', 'work']);
    } finally {
      await server.close();
    }
  });
});

describe('tsgi.wait_until under serve()', () => {
  it('is set with the other tsgi keys, before the header keys: no shape change per request after construction', async () => {
    let keys: string[] = [];
    const server = await start((environ, startResponse) => {
      keys = Object.keys(environ);
      startResponse('204 No Content', []);
      return [];
    });
    try {
      await fetch(`${server.url}/`, { headers: { 'X-A': '1' } });
      const at = keys.indexOf('tsgi.wait_until');
      expect(at).toBeGreaterThan(keys.indexOf('tsgi.early_hints'));
      expect(at).toBeLessThan(keys.findIndex((key) => key.startsWith('HTTP_')));
    } finally {
      await server.close();
    }
  });
});

describe('callOnClose at close() past a stuck app', () => {
  it('waits for the work until the timeout given, though it stopped waiting for an app that ignores the signal', async () => {
    let finished = false;
    // The stuck client leaves once its app runs: after a fixed 50 ms a loaded machine could
    // abort it before the request arrived, and close() had no stuck app to stop waiting for.
    const stuckRuns = deferred();
    const app = Request.application((req) => {
      if (req.path === '/stuck') {
        stuckRuns.resolve();
        return new Promise<Response>(() => {}); // ignores tsgi.signal
      }
      const res = new Response('ok\n');
      res.callOnClose(async () => {
        await sleep(2500);
        finished = true;
      });
      return res;
    });
    const server = await start(app);
    const leaving = new AbortController();
    const stuck = fetch(`${server.url}/stuck`, { signal: leaving.signal }).catch(() => undefined);
    expect(await (await fetch(`${server.url}/work`)).text()).toBe('ok\n');
    await stuckRuns.promise;
    leaving.abort();
    await stuck;
    await server.close({ timeout: 6000 });
    expect(finished).toBe(true);
  }, 15_000);
});

describe('callOnClose when the client leaves', () => {
  it("runs once the streamed body's finally has run", async () => {
    const events: string[] = [];
    const app = Request.application(() => {
      const res = new Response((async function* () {
        try {
          for (;;) {
            yield new TextEncoder().encode('tick\n'); // never ends by itself
            await sleep(10);
          }
        } finally {
          await sleep(20);
          events.push('finally');
        }
      })());
      res.callOnClose(() => void events.push('work'));
      return res;
    });
    const server = await start(app);
    try {
      const controller = new AbortController();
      const answer = await fetch(server.url, { signal: controller.signal });
      const reader = answer.body!.getReader();
      await reader.read();
      controller.abort();
      await until(() => events.length === 2);
      expect(events).toEqual(['finally', 'work']);
    } finally {
      await server.close();
    }
  });
});

describe('callOnClose and the uploads of the request', () => {
  it('reads an upload spooled to disk after the answer: its file is removed only once the work is done', async () => {
    const got: Array<number | string> = [];
    let spooled: string | undefined;
    const app = Request.application(async (req) => {
      const upload = (await req.files()).get('attachment')!;
      spooled = upload.path;
      const res = new Response(null, { status: 204 });
      res.callOnClose(async () => {
        await sleep(20);
        got.push((await upload.bytes()).byteLength);
      });
      return res;
    });
    const server = await start(app);
    try {
      const form = new FormData();
      form.append('attachment', new Blob([new Uint8Array(3_000_000)]), 'mail.eml');
      expect((await fetch(server.url, { method: 'POST', body: form })).status).toBe(204);
      await until(() => got.length > 0 || server.log.text !== '');
      expect(server.log.text).toBe('');
      expect(got).toEqual([3_000_000]);
    } finally {
      await server.close();
    }
    expect(spooled).toBeDefined();
    expect(existsSync(spooled!)).toBe(false); // removed after the work, before close() resolved
  });
});

describe('callOnClose in the TestClient', () => {
  it('waits for the work before the call answers, and fails the call on an error there', async () => {
    let done = false;
    const app = Request.application((req) => {
      const res = new Response('ok\n');
      res.callOnClose(async () => {
        await sleep(20);
        if (req.path === '/fail') throw new Error('boom after the answer');
        done = true;
      });
      return res;
    });
    const client = new TestClient(app);
    await client.get('/');
    expect(done).toBe(true);
    await expect(client.get('/fail')).rejects.toThrow(TestClientError);
    const res = await client.get('/fail', { allowErrors: true });
    expect(res.errors).toContain('boom after the answer');
  });

  it('returns the function given (a decorator, as in Werkzeug), and refuses what is not one', () => {
    const res = new Response('ok');
    const fn = () => {};
    expect(res.callOnClose(fn)).toBe(fn);
    expect(() => res.callOnClose('later' as never)).toThrow(new TypeError('callOnClose: expected a function'));
  });

  it('runs for a HEAD answer and a 204 alike, once each', async () => {
    let calls = 0;
    const app = Request.application((req) => {
      const res = new Response(null, { status: req.path === '/none' ? 204 : 200 });
      res.callOnClose(() => void calls++);
      return res;
    });
    const client = new TestClient(app);
    await client.head('/');
    await client.get('/none');
    expect(calls).toBe(2);
  });
});

describe('callOnClose work that never settles, in the TestClient', () => {
  it('says which call waits for it, instead of hanging the test without a word', async () => {
    const app = Request.application(() => {
      const res = new Response('ok\n');
      res.callOnClose(() => new Promise(() => {}));
      return res;
    });
    const warned: string[] = [];
    const spy = vi.spyOn(console, 'warn').mockImplementation((message: unknown) => void warned.push(String(message)));
    try {
      void new TestClient(app).get('/stuck');
      await until(() => warned.length > 0);
      expect(warned[0]).toMatch(/GET http:\/\/localhost\/stuck .*res\.callOnClose.* 2 s/);
    } finally {
      spy.mockRestore();
    }
  }, 10_000);
});

describe('callOnClose under a fetch handler', () => {
  it("hands the work to a Worker's ctx.waitUntil, which the runtime waits for", async () => {
    const { toFetchHandler } = await import('tsgi/fetch');
    const handed: Array<Promise<unknown>> = [];
    const ctx = { waitUntil: (promise: Promise<unknown>) => void handed.push(promise), passThroughOnException() {} };
    let done = false;
    const app = Request.application(() => {
      const res = Response.json({ received: true }, { status: 202 });
      res.callOnClose(async () => {
        await sleep(10);
        done = true;
      });
      return res;
    });
    const answer = await toFetchHandler(app)(new globalThis.Request('http://h/hook', { method: 'POST', body: '{}' }), {}, ctx);
    expect(await answer.json()).toEqual({ received: true });
    expect(handed.length).toBeGreaterThan(0);
    await Promise.all(handed);
    expect(done).toBe(true);
  });
});

describe('callOnClose on the response getResponse answers outside any Request.application', () => {
  /** A handler whose answer (in memory, or streamed) holds work that records its runs in `runs`. */
  function hook(streamed: boolean) {
    const runs: string[] = [];
    const app = Request.application(() => {
      const res = streamed
        ? new Response(
            (async function* () {
              yield new TextEncoder().encode('accepted');
            })(),
          )
        : new Response('accepted');
      res.callOnClose(() => void runs.push('work'));
      return res;
    });
    return { runs, app };
  }

  for (const streamed of [false, true]) {
    const kind = streamed ? 'streamed' : 'in memory';
    it(`runs the work once the body is read (text()), once, not again when read again (${kind})`, async () => {
      const { runs, app } = hook(streamed);
      const res = await Request.blank('/hook', { method: 'POST' }).getResponse(app);
      expect(await res.text()).toBe('accepted');
      expect(await within(() => runs.length > 0, 1000)).toBe(true);
      expect(await res.text()).toBe('accepted');
      await sleep(20);
      expect(runs).toEqual(['work']);
    });

    it(`runs the work once, after the answer, when a raw app serves the response it got (${kind}), over a socket`, async () => {
      const { runs, app } = hook(streamed);
      const events: string[] = [];
      const raw: App = async (environ, startResponse) => {
        const res = await new Request(environ).getResponse(app);
        events.push('got');
        return res.respond(environ, startResponse);
      };
      const server = await start(raw);
      try {
        const answer = await fetch(`${server.url}/hook`, { method: 'POST' });
        expect(await answer.text()).toBe('accepted');
        expect(await within(() => runs.length > 0, 1000)).toBe(true);
        await sleep(20);
        expect([...events, ...runs]).toEqual(['got', 'work']);
      } finally {
        await server.close();
      }
    });
  }

  it('runs the work once when the response is read, then served (as Werkzeug reads an app whole, running its close)', async () => {
    const { runs, app } = hook(false);
    const req = Request.blank('/hook', { method: 'POST' });
    const res = await req.getResponse(app);
    expect(await res.text()).toBe('accepted');
    const body = res.respond(req.environ, () => undefined) as Iterable<Uint8Array>;
    for (const _chunk of body);
    await sleep(30);
    expect(runs).toEqual(['work']);
  });

  it('keeps the uploads of a streamed answer until its work, run once the body is read, is done', async () => {
    const got: number[] = [];
    let spooled: string | undefined;
    const app = Request.application(async (req) => {
      const upload = (await req.files()).get('attachment')!;
      spooled = upload.path;
      const res = new Response(
        (async function* () {
          yield new TextEncoder().encode('accepted');
        })(),
      );
      res.callOnClose(async () => {
        await sleep(20);
        got.push((await upload.bytes()).byteLength);
      });
      return res;
    });
    const req = Request.blank('/hook', { method: 'POST', files: { attachment: { filename: 'mail.eml', content: new Uint8Array(3_000_000) } } });
    const res = await req.getResponse(app);
    expect(await res.text()).toBe('accepted');
    expect(await within(() => got.length > 0, 2000)).toBe(true);
    expect(got).toEqual([3_000_000]);
    expect(spooled).toBeDefined();
    expect(await within(() => !existsSync(spooled!), 2000)).toBe(true);
  });

  it('keeps the uploads of an in-memory answer until its work, run once the body is read, is done', async () => {
    const { got, spooled, app } = uploadHook();
    const req = Request.blank('/hook', { method: 'POST', files: { attachment: { filename: 'mail.eml', content: new Uint8Array(3_000_000) } } });
    const res = await req.getResponse(app);
    expect(await res.text()).toBe('accepted');
    expect(await within(() => got.length > 0, 2000)).toBe(true);
    expect(got).toEqual([3_000_000]);
    expect(spooled()).toBeDefined();
    expect(await within(() => !existsSync(spooled()!), 2000)).toBe(true);
  });

  it('keeps the uploads of an in-memory answer a raw app got and served until its work, run after the answer, is done (socket)', async () => {
    const { got, spooled, app } = uploadHook();
    const raw: App = async (environ, startResponse) => (await new Request(environ).getResponse(app)).respond(environ, startResponse);
    const server = await start(raw);
    try {
      const form = new FormData();
      form.append('attachment', new Blob([new Uint8Array(3_000_000)]), 'mail.eml');
      const answer = await fetch(`${server.url}/hook`, { method: 'POST', body: form });
      expect(await answer.text()).toBe('accepted');
      expect(await within(() => got.length > 0, 2000)).toBe(true);
      expect(got).toEqual([3_000_000]);
      expect(spooled()).toBeDefined();
      expect(await within(() => !existsSync(spooled()!), 2000)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('runs the work when the response is converted (toFetch()), once', async () => {
    const { runs, app } = hook(false);
    const res = await Request.blank('/hook', { method: 'POST' }).getResponse(app);
    expect(await res.toFetch().text()).toBe('accepted');
    expect(await within(() => runs.length > 0, 1000)).toBe(true);
    await sleep(20);
    expect(runs).toEqual(['work']);
  });

  it('logs what the work throws to the request\'s tsgi.errors', async () => {
    const lines: string[] = [];
    const app = Request.application(() => {
      const res = new Response('accepted');
      res.callOnClose(() => {
        throw new Error('queue down');
      });
      return res;
    });
    const req = Request.blank('/hook', { method: 'POST' });
    req.environ['tsgi.errors'] = { write: (line: string) => void lines.push(line) };
    await (await req.getResponse(app)).text();
    expect(await within(() => lines.length > 0, 1000)).toBe(true);
    expect(lines.join('')).toMatch(/POST \/hook HTTP\/1\.1 \(callOnClose\): Error: queue down/);
  });
});

/**
 * An app answering `accepted` from memory whose `callOnClose` work reads the request's upload
 * `attachment` (its size in `got`, or the error), and where that upload was spooled.
 */
function uploadHook(): { got: Array<number | string>; spooled: () => string | undefined; app: App } {
  const got: Array<number | string> = [];
  let path: string | undefined;
  const app = Request.application(async (req) => {
    const upload = (await req.files()).get('attachment')!;
    path = upload.path;
    const res = new Response('accepted');
    res.callOnClose(async () => {
      try {
        got.push((await upload.bytes()).byteLength);
      } catch (error) {
        got.push(String(error));
      }
    });
    return res;
  });
  return { got, spooled: () => path, app };
}

/** An app whose answer's `callOnClose` work takes 300 ms, then sets `work.finished`. */
function slowWork(work: { finished: boolean }): App {
  return Request.application(() => {
    const res = new Response('ok\n');
    res.callOnClose(async () => {
      await sleep(300);
      work.finished = true;
    });
    return res;
  });
}

/** An app whose answer's `callOnClose` work never ends. */
function stuckWork(): App {
  return Request.application(() => {
    const res = new Response('ok\n');
    res.callOnClose(() => new Promise(() => {}));
    return res;
  });
}
