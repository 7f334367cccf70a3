/**
 * `toNodeHandler` inside Fastify 5, over a real socket: a tsgi app registered under a prefix,
 * what it sees of a body Fastify parsed first, and what Fastify's hooks see of its answer.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { accessLog } from 'tsgi/middleware';
import { errorLog } from './node-helpers.ts';

const instances: FastifyInstance[] = [];

afterEach(async () => {
  for (const fastify of instances.splice(0)) await fastify.close();
});

/** Answers where it is mounted and the JSON body it read. */
const app = Request.application(async (req) =>
  Response.json({ script: req.scriptName, path: req.pathInfo, url: req.url, body: req.method === 'POST' ? await req.json() : null }, { status: req.pathInfo === '/gone' ? 410 : 200 }),
);

/** Registers `handler` under `prefix` as a catch-all route that hijacks the reply; answers the base URL. */
async function listen(fastify: FastifyInstance, prefix: string, handler: ReturnType<typeof toNodeHandler>, keepParsers = false): Promise<string> {
  instances.push(fastify);
  await fastify.register(
    async (scope) => {
      if (!keepParsers) {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      }
      for (const path of ['/', '/*']) {
        scope.all(path, (request, reply) => {
          reply.hijack();
          handler(request.raw, reply.raw);
        });
      }
    },
    { prefix },
  );
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
}

describe('a tsgi app registered under a Fastify prefix', () => {
  it('is mounted there with scriptName, and Fastify’s onResponse hook sees its status', async () => {
    const fastify = Fastify();
    const statuses: string[] = [];
    fastify.addHook('onResponse', async (request, reply) => {
      statuses.push(`${request.url} ${reply.statusCode}`);
    });
    const base = await listen(fastify, '/v2', toNodeHandler(app, { scriptName: '/v2' }));
    const res = await fetch(`${base}/v2/items?x=1`);
    expect(await res.json()).toEqual({ script: '/v2', path: '/items', url: `${base}/v2/items?x=1`, body: null });
    const post = await fetch(`${base}/v2/gone`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(post.status).toBe(410);
    expect(((await post.json()) as { body: unknown }).body).toEqual({ a: 1 });
    expect(statuses).toEqual(['/v2/items?x=1 200', '/v2/gone 410']);
  });

  it('fails a read of a body Fastify’s own parsers took with a 500 that names them', async () => {
    const log = errorLog();
    const base = await listen(Fastify(), '/v2', toNodeHandler(app, { scriptName: '/v2', log }), true);
    const res = await fetch(`${base}/v2/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(500);
    expect(log.text).toContain('the request body was read before toNodeHandler');
    expect(log.text).toContain('Fastify’s content-type parsers');
    expect(log.text).toContain('removeAllContentTypeParsers()');
  });
});

describe('a reply Fastify sent itself before the tsgi app answered', () => {
  it('logs that the app’s answer was dropped and why, instead of dropping it without a word', async () => {
    const log = errorLog();
    const slow = Request.application(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response('from tsgi');
    });
    const streamed = Request.application(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response((async function* () { yield new TextEncoder().encode('from tsgi'); })());
    });
    const fastify = Fastify();
    instances.push(fastify);
    for (const [path, app] of [['/slow', slow], ['/streamed', streamed]] as const) {
      const handler = toNodeHandler(app, { log });
      // No reply.hijack(): the async route resolves, and Fastify answers an empty 200 itself.
      fastify.get(path, async (request, reply) => {
        handler(request.raw, reply.raw);
      });
    }
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
    for (const path of ['/slow', '/streamed']) {
      const res = await fetch(`${base}${path}`);
      expect(await res.text()).toBe('');
    }
    // Logged once each app answers, 20 ms after Fastify's own reply: polled, not a fixed 100 ms.
    await expect.poll(() => log.text.match(/the response was sent before the app answered/g)?.length ?? 0, { timeout: 5000 }).toBe(2);
    expect(log.text).toContain('[tsgi] GET /slow HTTP/1.1: Error: the response was sent before the app answered');
    expect(log.text).toContain('[tsgi] GET /streamed HTTP/1.1: Error: the response was sent before the app answered');
    expect(log.text).toContain('reply.hijack()');
  });
});

describe('accessLog of a tsgi app under fastify.inject() (light-my-request, no socket)', () => {
  it('logs what the injected request got, end with its status, as over a socket: a 204, an in-memory body, a stream', async () => {
    const lines: string[] = [];
    const logged = accessLog(
      async (environ, startResponse) => {
        const path = environ.PATH_INFO as string;
        if (path === '/hook') return (startResponse('204 No Content', []), []);
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return path === '/stream' ? (async function* () { yield new TextEncoder().encode('a'); yield new TextEncoder().encode('b'); })() : [new TextEncoder().encode('ab')];
      },
      { log: { write: (line: string) => void lines.push(line) }, format: (e) => `${e.url} ${e.status} ${e.outcome} ${e.bytes}` },
    );
    const handler = toNodeHandler(logged);
    const fastify = Fastify();
    instances.push(fastify);
    fastify.all('/*', (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    });
    const answers: Array<[number, string]> = [];
    for (const [method, url] of [['POST', '/hook'], ['GET', '/memory'], ['GET', '/stream']] as const) {
      const res = await fastify.inject({ method, url });
      answers.push([res.statusCode, res.body]);
    }
    await expect.poll(() => lines.length, { timeout: 5000 }).toBe(3); // the access log's lines come at each end, polled
    expect(answers).toEqual([[204, ''], [200, 'ab'], [200, 'ab']]);
    expect(lines).toEqual(['/hook 204 end 0\n', '/memory 200 end 2\n', '/stream 200 end 2\n']);
  });
});

describe("the fields Fastify's plugins set on the reply (docs/deployment.md, Fastify 5)", () => {
  it('are lost at reply.hijack(), and go out, merged with the app’s, once copied onto reply.raw', async () => {
    const stamped = Request.application(() => {
      const res = new Response('ok');
      res.headers.append('Vary', 'Accept');
      res.setCookie('app', '1');
      return res;
    });
    const handler = toNodeHandler(stamped);
    const ask = async (copy: boolean) => {
      const fastify = Fastify();
      instances.push(fastify);
      // What @fastify/cors or a rate limit does: fields on the reply, in a hook.
      fastify.addHook('onRequest', async (_request, reply) => {
        reply.header('X-RateLimit-Limit', '100');
        reply.header('Vary', 'Origin');
        reply.header('Set-Cookie', 'plugin=1');
      });
      fastify.all('/*', (request, reply) => {
        if (copy) for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
        reply.hijack();
        handler(request.raw, reply.raw);
      });
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      return fetch(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/x`);
    };
    const lost = await ask(false);
    expect(lost.headers.get('x-ratelimit-limit')).toBeNull();
    const copied = await ask(true);
    expect(await copied.text()).toBe('ok');
    expect(copied.headers.get('x-ratelimit-limit')).toBe('100');
    expect(copied.headers.get('vary')).toBe('Origin, Accept');
    expect(copied.headers.getSetCookie().map((c) => c.split(';')[0])).toEqual(['plugin=1', 'app=1']);
  });
});
