/**
 * Scenario: an SRE wires observability into a service as docs/middleware.md and
 * docs/deployment.md tell it: `requestId`, a per-request `AsyncLocalStorage` "span" carried into
 * streamed bodies with `bindBody`, `accessLog` in the `json` format to a JSON sink (with
 * `redactQuery`), `errors` writing one JSON object per failure, `timeout`, `compress`, and routes
 * that answer JSON, stream, send events, throw, fail half-way, and `proxy` to an upstream. Driven
 * over real sockets (client aborts, HEAD, 304, 413, 400, a timeout, a graceful shutdown with
 * requests in flight), every log line is checked: one access line per request with the status
 * the client got (nginx's `$status`, 499 included), the bytes, the id of the answer's
 * `X-Request-Id` and of the upstream's view, the upstream's times, the span, no secret.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPNotFound, Request, Response, type ServerHandle, compose, serve } from 'tsgi';
import { accessLog, bindBody, compress, errors, requestId, requestIdKey, timeout } from 'tsgi/middleware';
import { type ProxyApp, proxy } from 'tsgi/proxy';

const SECRETS = ['token'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string) => new TextEncoder().encode(value);

// docs/middleware.md, "Request context": the store set per request, bound into the body.
const spans = new AsyncLocalStorage<{ span: string }>();
const tracing = (app: App): App => (environ, startResponse) => {
  const store = { span: `span-${requestIdKey.get(environ)}` };
  return spans.run(store, async () => bindBody(await app(environ, startResponse), (step) => spans.run(store, step)));
};

interface Seen { id: string | undefined; traceparent: string | undefined }
const upstreamSeen: Seen[] = [];
/** Called with the path of each request as it reaches a slow route or the upstream: a client leaves then. */
const arrivals = new Map<string, () => void>();
const arrival = (path: string) => new Promise<void>((resolve) => arrivals.set(path, resolve));
let upstream: http.Server;
let api: ProxyApp;
let server: ServerHandle;
const access: Record<string, unknown>[] = [];
const failures: { span: string | null; message: string }[] = [];
const serverLog: string[] = [];

function site(): App {
  const routes = Request.application(async (req) => {
    switch (req.pathInfo) {
      case '/json': return Response.json({ span: spans.getStore()?.span });
      case '/etag': {
        const res = new Response('tagged\n');
        res.conditionalResponse = true;
        res.etag = 'v1';
        return res;
      }
      case '/slow':
        arrivals.get(req.path)?.();
        await sleep(Number(req.query.get('ms')));
        return new Response('slow\n');
      case '/stream':
        return new Response((async function* () {
          for (let i = 0; i < 20; i++) {
            yield text(`${i} ${spans.getStore()?.span}\n`);
            await sleep(30);
          }
        })());
      case '/events':
        arrivals.get(req.path)?.();
        return Response.eventStream((async function* () {
          for (let i = 0; ; i++) {
            yield { data: String(i) };
            await sleep(40);
          }
        })());
      case '/throw': throw new Error('handler failed');
      case '/second': return new Response((async function* () {
        yield text('first\n');
        throw new Error('failed at the second step');
      })());
      case '/halfway': return new Response((async function* () {
        yield text('first\n');
        await sleep(20);
        yield text('second\n');
        await sleep(20);
        throw new Error(`failed half-way in ${spans.getStore()?.span}`);
      })());
      case '/upload': return new Response(`${(await req.bytes({ maxBodySize: 100 })).byteLength}\n`);
      case '/echo': return Response.json(await req.json());
      default: throw new HTTPNotFound();
    }
  });
  return (environ, startResponse) => (String(environ.PATH_INFO).startsWith('/api/') ? api : routes)(environ, startResponse);
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    upstreamSeen.push({ id: req.headers['x-request-id'] as string | undefined, traceparent: req.headers.traceparent as string | undefined });
    arrivals.get(req.url!)?.();
    // /api/hang is never answered: its client leaves first, however loaded the machine.
    if (!req.url!.startsWith('/api/hang')) setTimeout(() => res.end(`upstream ${req.url}\n`), 20);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  // The span goes upstream as OpenTelemetry's traceparent would.
  api = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, {
    requestHeaders: (headers) => void headers.set('traceparent', spans.getStore()?.span ?? 'none'),
  });
  const jsonErrors = { write: (message: string) => void failures.push({ span: spans.getStore()?.span ?? null, message: message.trimEnd() }) };
  const jsonAccess = { write: (line: string) => void access.push({ ...JSON.parse(line), span: spans.getStore()?.span ?? null }) };
  const app = compose(
    requestId,
    tracing,
    (inner) => accessLog(inner, { format: 'json', log: jsonAccess, redactQuery: SECRETS }),
    (inner) => errors(inner, { log: jsonErrors }),
    (inner) => timeout(inner, { ms: 500 }),
    compress,
  )(site());
  server = await serve(app, { port: 0, redactQuery: SECRETS, log: { write: (line: string) => void serverLog.push(line) } });
});

afterAll(async () => {
  await server.close({ timeout: 100 });
  await api.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** A fetch whose answer is read whole (or until the connection is cut): status, id, body. */
async function get(path: string, init: RequestInit = {}): Promise<{ status: number; id: string | null; body: string; cut: boolean }> {
  const res = await fetch(server.url + path, init);
  let body = '';
  let cut = false;
  try {
    body = await res.text();
  } catch {
    cut = true;
  }
  return { status: res.status, id: res.headers.get('x-request-id'), body, cut };
}

/**
 * Sends `path` on a raw connection and closes it `ms` after the first byte of the answer, or,
 * given `before`, once that promise settles (the request reached the app or the upstream).
 */
function leave(path: string, ms: number, before?: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    if (before !== undefined) void before.then(() => socket.destroy());
    else socket.once('data', () => setTimeout(() => socket.destroy(), ms));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

const lineFor = (id: string | null) => {
  const lines = access.filter((line) => line.request_id === id);
  expect(lines).toHaveLength(1);
  return lines[0]!;
};

describe('an observed service', () => {
  it('logs each request once, as the client got it, with its id, span and upstream times, and no secret', async () => {
    const secret = { authorization: 'Bearer SECRET-A', cookie: 'sid=SECRET-C', referer: 'https://app.example/reset?token=SECRET-R' };
    const answers = {
      json: await get('/json?token=SECRET-Q&x=1', { headers: secret }),
      head: await get('/json', { method: 'HEAD' }),
      notModified: await get('/etag', { headers: { 'if-none-match': '"v1"' } }),
      timedOut: await get('/slow?ms=2000'),
      thrown: await get('/throw'),
      second: await get('/second'),
      halfway: await get('/halfway'),
      tooLarge: await get('/upload', { method: 'POST', body: 'x'.repeat(500) }),
      malformed: await get('/echo', { method: 'POST', body: '{"a":', headers: { 'content-type': 'application/json' } }),
      proxied: await get('/api/fast'),
    };
    await leave('/slow?ms=2000', 0, arrival('/slow')); // before the answer: 499
    await leave('/stream', 20); // mid-stream: the status sent, the bytes so far
    await leave('/api/hang', 0, arrival('/api/hang')); // before the upstream's head: 499, the upstream's time to the abort
    await expect.poll(() => access.length).toBe(13);

    expect(answers.json).toMatchObject({ status: 200 });
    expect(lineFor(answers.json.id)).toMatchObject({ status: 200, outcome: 'end', url: '/json?token=[Redacted]&x=1', referer: 'https://app.example/reset?token=[Redacted]' });
    expect(lineFor(answers.head.id)).toMatchObject({ method: 'HEAD', status: 200, bytes: 0 });
    expect(lineFor(answers.notModified.id)).toMatchObject({ status: 304, bytes: 0 });
    expect(lineFor(answers.timedOut.id)).toMatchObject({ status: 503, outcome: 'end' });
    expect(lineFor(answers.thrown.id)).toMatchObject({ status: 500, outcome: 'end' });
    // A 500 in place of the held head of a body failing at its second step (before a byte
    // left `compress`): a whole answer, not the app's 200.
    expect(answers.second).toMatchObject({ status: 500, cut: false });
    expect(lineFor(answers.second.id)).toMatchObject({ status: 500, outcome: 'end' });
    // A cut stream: the status sent, never a clean end.
    expect(answers.halfway).toMatchObject({ status: 200, cut: true });
    expect(lineFor(answers.halfway.id)).toMatchObject({ status: 200, outcome: 'error', error: expect.stringContaining('failed half-way') });
    expect(lineFor(answers.tooLarge.id)).toMatchObject({ status: 413 });
    expect(lineFor(answers.malformed.id)).toMatchObject({ status: 400, body_bytes_read: 5 });

    // The upstream saw the id the client got and the access line has, and the request's span.
    const proxied = lineFor(answers.proxied.id);
    expect(upstreamSeen[0]).toEqual({ id: answers.proxied.id, traceparent: `span-${answers.proxied.id}` });
    expect(proxied.upstream_header_ms as number).toBeLessThanOrEqual(proxied.upstream_response_ms as number);
    expect(proxied.upstream_response_ms as number).toBeLessThanOrEqual(proxied.duration_ms as number);

    const [goneProxied, gone, cut] = access.slice(-3).sort((a, b) => String(a.url).localeCompare(String(b.url)));
    expect(gone).toMatchObject({ url: '/slow?ms=2000', status: 499, bytes: 0, outcome: 'close' });
    expect(cut).toMatchObject({ url: '/stream', status: 200, outcome: 'close' });
    expect(cut!.bytes as number).toBeGreaterThan(0);
    expect(goneProxied).toMatchObject({ url: '/api/hang', status: 499, outcome: 'close', upstream_header_ms: null });
    expect(goneProxied!.upstream_response_ms).toEqual(expect.any(Number));

    // Every line: its own id, the span of its request (the 499s' too), milliseconds.
    expect(new Set(access.map((line) => line.request_id)).size).toBe(access.length);
    for (const line of access) {
      expect(line.span).toBe(`span-${line.request_id}`);
      expect(line.duration_ms).toBeLessThan(2000);
    }
    // One error line per failure of the app, in its request's span, naming its id; none for
    // the 4xx, the 503 and the clients gone.
    expect(failures.map((failure) => failure.message.split(':')[0])).toEqual([
      `[tsgi] GET /throw HTTP/1.1 500 request_id=${answers.thrown.id}`,
      `[tsgi] GET /second HTTP/1.1 500 request_id=${answers.second.id}`,
      `[tsgi] GET /halfway HTTP/1.1 200 (failed after the response started; the connection is aborted) request_id=${answers.halfway.id}`,
    ]);
    for (const failure of failures) expect(failure.message).toContain(`request_id=${failure.span!.slice('span-'.length)}`);
    expect(serverLog).toEqual([]);
    expect(JSON.stringify([access, failures])).not.toMatch(/SECRET/);
  });

  it('loses no line at the graceful shutdown: a slow answer finishes, an event stream ends whole', async () => {
    access.length = 0;
    const arrived = Promise.all([arrival('/slow'), arrival('/events')]);
    const slow = get('/slow?ms=150');
    const events = get('/events');
    await arrived;
    await server.close({ timeout: 2000 });
    const [slowAnswer, eventsAnswer] = await Promise.all([slow, events]);
    expect(slowAnswer).toMatchObject({ status: 200, body: 'slow\n' });
    expect(eventsAnswer).toMatchObject({ status: 200, cut: false });
    expect(access).toHaveLength(2);
    expect(lineFor(slowAnswer.id)).toMatchObject({ status: 200, outcome: 'end' });
    expect(lineFor(eventsAnswer.id)).toMatchObject({ status: 200, outcome: 'end', span: `span-${eventsAnswer.id}` });
  });
});
