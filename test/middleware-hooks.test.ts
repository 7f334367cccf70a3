/**
 * `defineMiddleware({ before, after })`: middleware as two hooks (Flask's `before_request` and
 * `after_request`). What a client gets must be what the same layers written with
 * `await req.getResponse(app)` give, whatever the app below answers; the hooks see the answers
 * Flask's do; and hooks that answer synchronously over a synchronous handler answer without a
 * promise.
 */
import { describe, expect, it } from 'vitest';
import {
  type App,
  HTTPForbidden,
  HTTPNotFound,
  HTTPImATeapot,
  Request,
  Response,
  compose,
  defineMiddleware,
  serve,
} from 'tsgi';
import { errors } from 'tsgi/middleware';
import { ANSWER_CASES, answeringApp, opaque, served } from './handler-answers.ts';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const enc = new TextEncoder();

/** A hooks layer that reads what it got and adds a header saying so. */
const stampHooks = defineMiddleware<{ n: number }>({
  after(_req, res, { n }) {
    res.headers.set(`X-Mw-${n}`, `${res.statusCode} ${res.headers.get('content-length') ?? '-'}`);
  },
});

/** The same layer written with `await req.getResponse(app)`. */
const stampAwait = defineMiddleware<{ n: number }>(async (req, app, { n }) => {
  const res = await req.getResponse(app);
  res.headers.set(`X-Mw-${n}`, `${res.statusCode} ${res.headers.get('content-length') ?? '-'}`);
  return res;
});

const wrapWith =
  (stamp: typeof stampHooks) =>
  (inner: App): App =>
    stamp(stamp(stamp(inner, { n: 3 }), { n: 2 }), { n: 1 });

const inner = answeringApp();

describe('defineMiddleware({ after })', () => {
  const cases = ANSWER_CASES;

  for (const [path, init] of cases) {
    it(`answers ${init?.method ?? 'GET'} ${path}${init?.headers ? ` (${Object.keys(init.headers).join(', ')})` : ''} as awaited layers and the gateway interface do`, async () => {
      const hooks = await served(wrapWith(stampHooks)(inner), path, init);
      expect(hooks).toEqual(await served(wrapWith(stampHooks)(opaque(inner)), path, init));
      expect(hooks).toEqual(await served(wrapWith(stampAwait)(inner), path, init));
      expect(hooks.headers.map(([n]) => n)).toEqual(expect.arrayContaining(['X-Mw-1', 'X-Mw-2', 'X-Mw-3']));
    });
  }

  it('answers without a promise when every hook and the handler answer synchronously', async () => {
    const hello = Request.application(() => new Response('hi'));
    const layer = (n: number) => defineMiddleware({ after: (_req, res) => void res.headers.set(`X-Mw-${n}`, '1') });
    const stacked = compose(layer(1), layer(2), layer(3))(hello);
    let status = '';
    const body = stacked(Request.blank('/').environ, (s) => {
      status = s;
    });
    expect(typeof (body as { then?: unknown }).then).toBe('undefined');
    expect(status).toBe('200 OK');
    const awaited = stampAwait(hello, { n: 1 });
    const viaAwait = awaited(Request.blank('/').environ, () => {});
    expect(typeof (viaAwait as { then?: unknown }).then).toBe('function');
    await viaAwait;
  });

  it('sends the Response after answers instead, and refuses an answer that is none', async () => {
    const replace = defineMiddleware({ after: (_req, res) => new Response(`was ${res.statusCode}`, { status: 202 }) });
    const out = await served(replace(inner), '/missing');
    expect(out.status).toBe('202 Accepted');
    expect(out.body).toBe('was 404');
    const wrong = defineMiddleware({ after: () => 'text' as unknown as Response });
    await expect(served(wrong(inner), '/json')).rejects.toThrow(/after hook returned string: expected a Response or nothing/);
    const returned = defineMiddleware({ after: () => new HTTPImATeapot() as unknown as Response });
    await expect(served(returned(inner), '/json')).rejects.toThrow(/throw it to answer it/);
  });

  it("refuses a fetch Response from after with the handler's hint, Response.fromFetch", async () => {
    const fetchAnswer = defineMiddleware({ after: () => new globalThis.Response('from fetch') as unknown as Response });
    const handler = Request.application(() => new globalThis.Response('from fetch') as unknown as Response);
    const hint = "(tsgi's Response is another class: return Response.fromFetch(response) to convert it)";
    const fromHandler = (await served(handler, '/').catch((error: unknown) => error)) as Error;
    const fromAfter = (await served(fetchAnswer(inner), '/json').catch((error: unknown) => error)) as Error;
    expect(fromHandler.message).toBe(`Request.application handler returned a fetch Response: expected a Response, HTTPException, string or app ${hint}`);
    expect(fromAfter).toBeInstanceOf(TypeError);
    expect(fromAfter.message).toBe(`defineMiddleware after hook returned a fetch Response: expected a Response or nothing ${hint}`);
  });

  it('runs on the response of an HTTPException a raw app throws (Flask runs after_request on it)', async () => {
    const raw: App = () => {
      throw new HTTPForbidden('raw says no');
    };
    const asyncRaw: App = async () => {
      throw new HTTPForbidden('later');
    };
    for (const app of [raw, asyncRaw]) {
      const out = await served(stampHooks(app, { n: 1 }), '/');
      expect(out.status).toBe('403 Forbidden');
      expect(out.headers).toContainEqual(['X-Mw-1', expect.stringMatching(/^403 /)]);
    }
  });

  it('does not run on an error that is not an HTTPException, which propagates', async () => {
    let ran = false;
    const watch = defineMiddleware({ after: () => void (ran = true) });
    const broken = Request.application(() => {
      throw new RangeError('boom');
    });
    await expect(served(watch(broken), '/')).rejects.toThrow('boom');
    await expect(served(watch(opaque(broken)), '/')).rejects.toThrow('boom');
    const throwing = defineMiddleware({
      after() {
        throw new RangeError('after broke');
      },
    });
    await expect(served(throwing(inner), '/json')).rejects.toThrow('after broke');
    expect(ran).toBe(false);
  });

  it('runs on the 500 page of errors below it (where Flask runs after_request on its own)', async () => {
    const watch = defineMiddleware({ after: (_req, res) => void res.headers.set('X-Seen', String(res.statusCode)) });
    const broken = Request.application(() => {
      throw new RangeError('boom');
    });
    const out = await served(watch(errors(broken)), '/');
    expect(out.status).toBe('500 Internal Server Error');
    expect(out.headers).toContainEqual(['X-Seen', '500']);
  });
});

describe('defineMiddleware({ before })', () => {
  it('goes on down the chain when before answers nothing, and gets the options', async () => {
    const seen: string[] = [];
    const log = defineMiddleware<{ tag: string }>({
      before(req, { tag }) {
        seen.push(`${tag} ${req.pathInfo}`);
        req.environ['test.tag'] = tag;
      },
    });
    const app = log(
      Request.application((req) => `tag=${String(req.environ['test.tag'])}`),
      { tag: 'a' },
    );
    expect((await served(app, '/x')).body).toBe('tag=a');
    expect(seen).toEqual(['a /x']);
  });

  it('answers what before answers, without calling the app, and after still runs on it', async () => {
    let called = 0;
    const app = Request.application(() => {
      called++;
      return 'app';
    });
    const answers: Array<[string, unknown, string, string]> = [
      ['a Response', new Response('early', { status: 201 }), '201 Created', 'early'],
      ['a string', 'early text', '200 OK', 'early text'],
      ['an HTTPException', new HTTPImATeapot(), '418 I\'m a Teapot', ''],
      ['an app', Request.application(() => new Response('other app', { status: 202 })), '202 Accepted', 'other app'],
    ];
    for (const [, answer, status, body] of answers) {
      for (const sync of [true, false]) {
        const guard = defineMiddleware({
          before: () => (sync ? (answer as Response) : Promise.resolve(answer as Response)),
          after: (_req, res) => void res.headers.set('X-After', String(res.statusCode)),
        });
        const out = await served(guard(app), '/');
        expect(out.status).toBe(status);
        if (body) expect(out.body).toBe(body);
        expect(out.headers).toContainEqual(['X-After', status.slice(0, 3)]);
      }
    }
    expect(called).toBe(0);
  });

  it('answers an HTTPException before throws, through after; an HTTPException after throws is the answer', async () => {
    const afters: number[] = [];
    const guard = defineMiddleware({
      before(req) {
        if (!req.headers.get('x-token')) throw new HTTPForbidden('No token.');
      },
      after(_req, res) {
        afters.push(res.statusCode);
        if (res.statusCode === 200) throw new HTTPImATeapot();
      },
    });
    const app = guard(Request.application(() => 'secret'));
    const refused = await served(app, '/', { headers: { Accept: 'text/plain' } });
    expect(refused.status).toBe('403 Forbidden');
    expect(refused.body).toContain('No token.');
    const teapot = await served(app, '/', { headers: { 'X-Token': 't' } });
    expect(teapot.status).toBe("418 I'm a Teapot");
    expect(afters).toEqual([403, 200]);
  });

  it('awaits async hooks in order around an async app', async () => {
    const order: string[] = [];
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    const layer = (name: string) =>
      defineMiddleware({
        async before() {
          await tick();
          order.push(`before ${name}`);
        },
        async after(_req, res) {
          await tick();
          order.push(`after ${name}`);
          res.headers.add('X-Order', name);
        },
      });
    const app = compose(
      layer('outer'),
      layer('inner'),
    )(
      Request.application(async () => {
        await tick();
        order.push('app');
        return 'done';
      }),
    );
    const out = await served(app, '/');
    expect(order).toEqual(['before outer', 'before inner', 'app', 'after inner', 'after outer']);
    expect(out.headers.filter(([n]) => n === 'X-Order').map(([, v]) => v)).toEqual(['inner', 'outer']);
  });

  it('gives the hooks an instance of the subclass it was called on', async () => {
    class Shop extends Request {
      get shop(): string {
        return 'acme';
      }
    }
    const layer = Shop.middleware({
      before: (req) => (req.pathInfo === '/early' ? `early ${req.shop}` : undefined),
      after: (req, res) => void res.headers.set('X-Shop', req.shop),
    });
    const early = await served(layer(inner), '/early');
    expect(early.body).toBe('early acme');
    expect(early.headers).toContainEqual(['X-Shop', 'acme']);
  });

  it('calls the hooks on the object that holds them, so the methods of a class reach its helpers', async () => {
    // Django's middleware classes: process_request and process_response on `self`.
    class Timing {
      before(req: Request) {
        req.environ['test.started'] = this.now();
      }
      after(req: Request, res: Response) {
        res.headers.set('X-Took', String(this.now() - (req.environ['test.started'] as number)));
      }
      now() {
        return 7;
      }
    }
    const out = await served(defineMiddleware(new Timing())(inner), '/json');
    expect(out.headers).toContainEqual(['X-Took', '0']);
  });
});

describe('defineMiddleware(hooks) types', () => {
  it('infers the options and the request class, and refuses hooks that answer what they may not', () => {
    class Shop extends Request {
      get shop(): string {
        return 'acme';
      }
    }
    const stamp = defineMiddleware<{ n: number }>({ after: (_req, res, { n }) => void res.headers.set('X-N', String(n)) });
    const annotated = Shop.middleware({ before: (req, { tag }: { tag: string }) => (req.shop === tag ? undefined : 'other shop') });
    expect(typeof stamp(inner, { n: 1 })).toBe('function');
    expect(typeof annotated(inner, { tag: 'acme' })).toBe('function');
    // @ts-expect-error the options have a required key
    expect(typeof stamp(inner)).toBe('function');
    // @ts-expect-error the options inferred from the annotation have one too
    expect(typeof annotated(inner)).toBe('function');
    const refused = [
      // @ts-expect-error after answers a Response or nothing, not a string
      defineMiddleware({ after: () => 'text' }),
      // @ts-expect-error nor an HTTPException (thrown, it is the answer)
      defineMiddleware({ after: () => new HTTPForbidden() }),
      // @ts-expect-error nor, async, a string
      defineMiddleware({ after: async () => 'text' }),
      // @ts-expect-error before answers nothing or an answer, not null
      defineMiddleware({ before: () => null }),
      // @ts-expect-error nor false
      defineMiddleware({ before: (req) => req.method === 'POST' && new HTTPForbidden() }),
    ];
    expect(refused).toHaveLength(5);
    // @ts-expect-error a hook typed for a subclass does not fit Request.middleware
    defineMiddleware({ before: (req: Shop) => void req.shop });
  });
});

describe('defineMiddleware(hooks) on bad input', () => {
  it('names the before hook when what it answered is no answer (null is not nothing)', async () => {
    for (const [value, kind] of [
      [null, 'null'],
      [0, 'number'],
      [{}, 'object'],
    ] as const) {
      const wrong = defineMiddleware({ before: () => value as never });
      await expect(served(wrong(inner), '/json')).rejects.toThrow(
        `defineMiddleware before hook returned ${kind}: expected nothing, or a Response, HTTPException, string or app`,
      );
      const later = defineMiddleware({ before: async () => value as never });
      await expect(served(later(inner), '/json')).rejects.toThrow(`defineMiddleware before hook returned ${kind}`);
    }
  });

  it('refuses unknown keys and hooks that are not functions', () => {
    expect(() => defineMiddleware({ afer: () => {} } as never)).toThrow(/unknown key "afer" \(expected before, after\)/);
    expect(() => defineMiddleware({ before: 'no' } as never)).toThrow(/before must be a function/);
    expect(() => defineMiddleware(null as never)).toThrow(/expects a function or an object of hooks/);
  });
});

describe('defineMiddleware(hooks) closes what it drops', () => {
  it('closes the streamed response after replaced, when the request ends', async () => {
    const log: string[] = [];
    const streaming: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          log.push('started');
          yield enc.encode('never sent');
          yield enc.encode('never sent either');
        } finally {
          log.push('finally');
        }
      })();
    };
    const replace = defineMiddleware({ after: () => new Response('replaced') });
    const out = await served(replace(streaming), '/');
    expect(out.body).toBe('replaced');
    expect(log).toEqual(['started', 'finally']);
  });
});

describe('a stack of hooks over a real socket', () => {
  it('removes the uploads a before hook parsed when the request ends, whatever the layer above', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-hooks-'));
    const seen: number[] = [];
    const parse = defineMiddleware({
      async before(req) {
        const files = await req.files({ tmpDir: dir, spoolThreshold: 16 });
        seen.push((await readdir(dir)).length);
        if (req.pathInfo === '/refuse') throw new HTTPForbidden(`got ${files.get('f')!.size}`);
        if (req.pathInfo === '/broken') throw new RangeError('broken');
      },
    });
    const hello = Request.application(() => new Response('Hello'));
    const awaited = defineMiddleware((req, app) => req.getResponse(app));
    const stacks: Record<string, App> = {
      outermost: parse(hello),
      'under an awaited layer': awaited(parse(hello)),
      'under a raw middleware': opaque(parse(hello)),
      'under errors': errors(parse(hello)),
    };
    for (const [name, app] of Object.entries(stacks)) {
      const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
      try {
        for (const [path, status] of [['/', 200], ['/refuse', 403], ['/broken', 500]] as const) {
          seen.length = 0;
          const form = new FormData();
          form.append('f', new Blob([new Uint8Array(5000)]), 'a.bin');
          const res = await fetch(`${server.url}${path}`, { method: 'POST', body: form });
          await res.arrayBuffer();
          expect([name, path, res.status]).toEqual([name, path, status]);
          expect(seen[0]).toBeGreaterThan(0);
          // The spooled files go once the exchange is over: polled, not looked for after 20 ms.
          await expect.poll(() => readdir(dir), { timeout: 5000 }).toEqual([]);
          expect([name, path, await readdir(dir)]).toEqual([name, path, []]);
        }
      } finally {
        await server.close();
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('closes the streams of a stack of hooks when the client goes away mid-body', async () => {
    const log: string[] = [];
    const endless = (tag: string) =>
      (async function* () {
        try {
          for (let i = 0; ; i++) {
            yield enc.encode(`${tag} ${i}\n`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          log.push(`${tag} finally`);
        }
      })();
    const stamp = defineMiddleware({ after: (_req, res) => void res.headers.set('X-Stamp', '1') });
    const parse = defineMiddleware({
      async before(req) {
        await req.form();
      },
    });
    const replace = defineMiddleware({ after: () => new Response(endless('replacement')) });
    const raw: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return endless('raw');
    };
    const stacks: Array<[App, string[]]> = [
      [stamp(parse(stamp(Request.application(() => new Response(endless('handler')))))), ['handler finally']],
      [stamp(replace(parse(raw))), ['raw finally', 'replacement finally']],
    ];
    for (const [app, expected] of stacks) {
      log.length = 0;
      const server = await serve(app, { host: '127.0.0.1', port: 0 });
      try {
        const aborted = new AbortController();
        const res = await fetch(`${server.url}/`, { method: 'POST', body: new URLSearchParams({ a: '1' }), signal: aborted.signal });
        expect(res.headers.get('x-stamp')).toBe('1');
        await res.body!.getReader().read();
        aborted.abort();
        await expect.poll(() => [...log].sort(), { timeout: 2000 }).toEqual(expected);
      } finally {
        await server.close();
      }
    }
  });

  it('serves the fields every layer set, to HEAD and GET', async () => {
    const layer = (n: number) =>
      defineMiddleware({
        before: (req) => (req.headers.get('x-refuse') === String(n) ? new HTTPForbidden(`layer ${n}`) : undefined),
        after: (_req, res) => void res.headers.set(`X-Mw-${n}`, '1'),
      });
    const app = compose(layer(1), layer(2), layer(3), layer(4), layer(5))(Request.application(() => new Response('Hello')));
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${server.url}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('Hello');
      expect([1, 2, 3, 4, 5].map((n) => res.headers.get(`x-mw-${n}`))).toEqual(['1', '1', '1', '1', '1']);
      const head = await fetch(`${server.url}/`, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe('5');
      expect(head.headers.get('x-mw-5')).toBe('1');
      const refused = await fetch(`${server.url}/`, { headers: { 'X-Refuse': '3' } });
      expect(refused.status).toBe(403);
      await refused.arrayBuffer();
      // Layers 4 and 5 sit below the one that answered; 1 to 3 saw its answer on the way up.
      expect([1, 2, 3, 4, 5].map((n) => refused.headers.get(`x-mw-${n}`))).toEqual(['1', '1', '1', null, null]);
    } finally {
      await server.close();
    }
  });
});
