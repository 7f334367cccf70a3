/**
 * A stack of `Request.application`/`defineMiddleware` layers hands one `Response` up instead of
 * serialising it at every layer: what each layer and the client see must be exactly what the
 * gateway interface gives when the inner app is opaque (any app may sit at any layer).
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, defineMiddleware } from 'tsgi';
import { ANSWER_CASES, answeringApp, opaque, served } from './handler-answers.ts';
import { start } from './node-helpers.ts';

/** One layer that reads what it got and adds a header saying so. */
const stamp = defineMiddleware<{ n: number }>(async (req, app, { n }) => {
  const res = await req.getResponse(app);
  res.headers.set(`X-Mw-${n}`, `${res.statusCode} ${res.headers.get('content-length') ?? '-'}`);
  return res;
});

const wrap = (inner: App): App => stamp(stamp(stamp(inner, { n: 3 }), { n: 2 }), { n: 1 });

const cached = new Response('shared constant', { headers: { ETag: '"c1"' } });

const inner = answeringApp(cached);

describe('a stack of Request.application layers', () => {
  const cases: typeof ANSWER_CASES = [...ANSWER_CASES, ['/cached', {}], ['/cached', { method: 'HEAD' }]];

  for (const [path, init] of cases) {
    it(`answers ${init?.method ?? 'GET'} ${path}${init?.headers ? ` (${Object.keys(init.headers).join(', ')})` : ''} exactly as through the gateway interface`, async () => {
      const direct = await served(wrap(inner), path, init);
      const viaGateway = await served(wrap(opaque(inner)), path, init);
      expect(direct).toEqual(viaGateway);
      expect(direct.headers.map(([n]) => n)).toEqual(expect.arrayContaining(['X-Mw-1', 'X-Mw-2', 'X-Mw-3']));
    });
  }

  it('never changes a Response the handler keeps and answers again', async () => {
    for (let i = 0; i < 3; i++) {
      const out = await served(wrap(inner), '/cached');
      expect(out.headers.filter(([n]) => n === 'X-Mw-1')).toHaveLength(1);
    }
    expect(cached.headers.has('x-mw-1')).toBe(false);
    expect(await cached.text()).toBe('shared constant');
  });

  it('never changes a kept Response, whatever the layers above change on theirs', async () => {
    const kept = new Response('kept body', { headers: [['ETag', '"k1"'], ['Set-Cookie', 'a=1']] });
    const rewrite = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      res.headers.delete('etag');
      res.headers.add('Set-Cookie', 'b=2');
      res.body = 'rewritten';
      res.statusCode = 201;
      return res;
    });
    const app = stamp(rewrite(Request.application(() => kept)), { n: 1 });
    for (let i = 0; i < 2; i++) {
      const out = await served(app, '/');
      expect(out.status).toBe('201 Created');
      expect(out.body).toBe('rewritten');
      expect(out.headers.filter(([n]) => n.toLowerCase() === 'etag')).toEqual([]);
      expect(out.headers.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    }
    expect(kept.status).toBe('200 OK');
    expect(kept.headers.list).toEqual([
      ['ETag', '"k1"'],
      ['Set-Cookie', 'a=1'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', '9'],
    ]);
    expect(await kept.text()).toBe('kept body');
  });

  it('hands each layer a header list it can add any number of fields to, in order', async () => {
    const many = defineMiddleware<{ n: number }>(async (req, app, { n }) => {
      const res = await req.getResponse(app);
      for (let i = 1; i <= n; i++) res.headers.add(`X-Add-${n}`, String(i));
      return res;
    });
    const handler = Request.application(() => new Response('body', { headers: [['ETag', '"e"']] }));
    const app = many(many(many(handler, { n: 1 }), { n: 7 }), { n: 3 });
    const out = await served(app, '/');
    const added = out.headers.filter(([n]) => n.startsWith('X-Add-'));
    expect(added).toEqual([
      ['X-Add-1', '1'],
      ...[1, 2, 3, 4, 5, 6, 7].map((i) => ['X-Add-7', String(i)]),
      ['X-Add-3', '1'],
      ['X-Add-3', '2'],
      ['X-Add-3', '3'],
    ]);
    // No empty slot either (`every` would skip one): each index holds a field.
    expect(Array.from(out.headers, (pair) => Array.isArray(pair) && pair.length === 2)).not.toContain(false);
    expect(out.headers.slice(0, 3).map(([n]) => n)).toEqual(['ETag', 'Content-Type', 'Content-Length']);
  });

  it('hands a layer no body for a 205 or a HEAD answered with a string, as the gateway interface does (socket)', async () => {
    // A layer that reads the body it got and says what it saw (an etag, a size log would).
    const seen = defineMiddleware({
      async after(_req, res) {
        res.headers.set('X-Seen', `${res.statusCode} ${JSON.stringify(await res.text())} ${res.headers.get('content-type') ?? '-'}`);
      },
    });
    const app = Request.application((req) => (req.pathInfo === '/205' ? new Response('form reset', { status: 205 }) : 'plain'));
    for (const layered of [seen(app), seen(opaque(app))]) {
      const server = await start(layered);
      const reset = await fetch(`${server.url}/205`);
      expect(reset.headers.get('x-seen')).toBe('205 "" -');
      expect(reset.headers.get('content-length')).toBe('0');
      const head = await fetch(`${server.url}/`, { method: 'HEAD' });
      expect(head.headers.get('x-seen')).toBe('200 "" text/plain; charset=utf-8');
      expect(head.headers.get('content-length')).toBe('5');
      await server.close();
    }
  });

  it('builds the inner layer its own Request subclass', async () => {
    class Shop extends Request {
      get shop(): string {
        return 'acme';
      }
    }
    const shopApp = Shop.application((req) => new Response(req.shop));
    expect((await served(wrap(shopApp), '/')).body).toBe('acme');
  });

  it('lets an error that is not an HTTPException propagate', async () => {
    const broken = Request.application(() => {
      throw new RangeError('boom');
    });
    await expect(served(wrap(broken), '/')).rejects.toThrow('boom');
    const wrong = Request.application(() => undefined as unknown as string);
    await expect(served(wrap(wrong), '/')).rejects.toThrow(/handler returned undefined/);
    // Flask's dict-to-JSON habit: the message says how it is done here.
    const dict = Request.application(() => ({ ok: true }) as unknown as string);
    await expect(served(wrap(dict), '/')).rejects.toThrow(/handler returned object: expected a Response, HTTPException, string or app \(for JSON, return Response\.json\(value\)\)/);
  });
});
