/**
 * One app for every server: Node (`serve`, the CLI, Express, Fastify, `@hono/node-server`),
 * Bun, Deno and Cloudflare's workerd run this same module (examples/bun.ts, examples/deno.ts,
 * examples/worker.ts, examples/express.ts), and the conformance suite
 * (test/runtimes/runtimes.test.ts) sends the same requests to each. It uses nothing but the
 * toolkit and the web platform (no `node:` module), so it bundles for a Worker as it is.
 *
 * | Path | Shows |
 * | --- | --- |
 * | `/env/…` | the environ as JSON: `SCRIPT_NAME`, `PATH_INFO` (decoded), `REQUEST_URI` (raw), host, port, client address, the request id |
 * | `/text` | a text with an ETag: HEAD, `If-None-Match` → 304, `Range` → 206 |
 * | `/stream` | two chunks 300 ms apart: the first arrives before the end |
 * | `/events` | server-sent events (`Response.eventStream`): a message, then a typed event with an id 100 ms later |
 * | `/ticks` | an event stream that never ends by itself: an event every 50 ms (a graceful shutdown ends it) |
 * | `/upload` | reads the request body as it streams up; answers its size, chunk count and how long it kept arriving |
 * | `/form` | a multipart form: fields and files |
 * | `/cookies` | the `Cookie` field as received; sets two cookies |
 * | `/redirect` | 302 to `/text`, built from `req.applicationUrl` (mount prefix kept) |
 * | `/session` | a login: `POST` (`user=…`) stores the user and a flash message in the `CookieSessions` session and logs in with an `AuthTickets` ticket, and redirects (303, two `Set-Cookie`; 422 for a name over 100 characters); `GET` answers the session's user, the ticket's (`REMOTE_USER`) and the flashes as JSON; `DELETE` logs out |
 * | `/missing` | `404`, as text, HTML or JSON by `Accept` |
 * | `/error/before`, `/error/after` | an app error before the headers (500) and after (a cut body) |
 * | `/unavailable` | a raw app's body raising `HTTPServiceUnavailable` before the headers: its 503 page |
 * | `/hangup`, `/hangup/status` | an endless stream whose `finally` counts clients that left |
 * | `/page` | an HTML page: a `103 Early Hints` first (`sendEarlyHints`, whose answer it shows), an inline script with the request's CSP nonce |
 * | `/hono/…` | examples/hono-inside.ts: a Hono app through `fromFetchHandler` |
 *
 * Every answer goes through the stack, outermost first: `requestId` (`X-Request-Id`, a
 * proxy's kept), `secureHeaders` (a CSP with a per-request nonce; HSTS on `https` only),
 * `cors` (the single-page app at {@link SPA_ORIGIN} may read the answers, with credentials)
 * and `crossOriginProtection` (other sites' `POST`s are refused with a `403`; that app's pass).
 * The answers of the main app (every path but `/hono/…` and `/unavailable`) also carry
 * `Server-Timing: app;dur=<ms>`, from a middleware written as hooks ({@link serverTiming}).
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/everywhere.ts:app
 * curl -i http://127.0.0.1:8000/env/a%20b?x=1
 * ```
 *
 * @module
 */
import {
  type App,
  HTTPMethodNotAllowed,
  HTTPNotFound,
  HTTPServiceUnavailable,
  HTTPUnprocessableContent,
  Request,
  Response,
  compose,
  defineEnvironKey,
  defineMiddleware,
  redirect,
} from 'tsgi';
import { AuthTickets, CookieSessions, cors, crossOriginProtection, cspNonce, mount, requestId, secureHeaders, sessionOf } from 'tsgi/middleware';
import { app as honoInside } from './hono-inside.ts';

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients of `/hangup`: how many started, how many bodies were closed (`finally` ran). */
const hangups = { started: 0, closed: 0 };

/**
 * `/session`'s sessions and login tickets. Constant secrets, so every server signs alike: a
 * real app reads its own from the environment (on Workers, a secret: `process.env` has it),
 * never from its source.
 */
const sessions = new CookieSessions({ secret: 'everywhere: a demo session secret, public, never for real' });
const tickets = new AuthTickets({ secret: 'everywhere: a demo ticket secret, public, never for real' });

/** The longest user name `/session` takes, in UTF-16 code units: it is kept in the session cookie. */
const MAX_USER_LENGTH = 100;

/** The environ keys `/env` shows. */
const SHOWN = [
  'REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_URI', 'SERVER_NAME', 'SERVER_PORT',
  'SERVER_PROTOCOL', 'REMOTE_ADDR', 'HTTP_HOST', 'HTTP_COOKIE', 'HTTP_X_DEMO', 'CONTENT_TYPE', 'CONTENT_LENGTH',
  'HTTP_X_REQUEST_ID', 'tsgi.url_scheme', 'tsgi.multiprocess', 'tsgi.multithread', 'tsgi.request_id',
];

/**
 * The origin of a single-page app served elsewhere that calls this one with the user's cookies
 * (`fetch(url, { credentials: 'include' })`): `cors` lets it read the answers,
 * `crossOriginProtection` lets it post (docs/middleware-cors.md, "A single-page app").
 */
export const SPA_ORIGIN = 'http://spa.example';

/** `/upload`: reads `tsgi.input` chunk by chunk, holding none of it. */
const upload: App = async (environ, startResponse) => {
  let bytes = 0;
  let chunks = 0;
  let largest = 0;
  let first = 0;
  for await (const chunk of environ['tsgi.input']) {
    if (chunks === 0) first = Date.now();
    bytes += chunk.byteLength;
    chunks++;
    largest = Math.max(largest, chunk.byteLength);
  }
  // From the first chunk to the end: how long the body kept arriving while the app read it.
  const spreadMs = chunks === 0 ? 0 : Date.now() - first;
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [encoder.encode(JSON.stringify({ bytes, chunks, largest, spreadMs }))];
};

/** `/error/after`: the headers and a first chunk go out, then the body fails. */
const failAfterHeaders: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    yield encoder.encode('partial\n');
    await sleep(50);
    throw new Error('the body failed after the headers');
  })();
};

/**
 * `/unavailable`: a raw app whose body raises `HTTPServiceUnavailable` at its first read, before
 * the head went out: every server answers that exception's 503 page (and logs it).
 */
const unavailable: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    await sleep(10);
    throw new HTTPServiceUnavailable('down for maintenance', { headers: { 'Retry-After': '120' } });
  })();
};

/** `/hangup`: a chunk every 20 ms until the client leaves; `finally` counts the close. */
const endless: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    hangups.started++;
    try {
      for (;;) {
        yield encoder.encode('tick\n');
        await sleep(20);
      }
    } finally {
      hangups.closed++;
    }
  })();
};

const main = Request.application(async (req) => {
  const path = req.pathInfo;
  if (path.startsWith('/env')) {
    const shown: Record<string, unknown> = {};
    for (const key of SHOWN) shown[key] = req.environ[key];
    return Response.json({ ...shown, url: req.url, applicationUrl: req.applicationUrl, query: Object.fromEntries(req.query) });
  }
  switch (path) {
    case '/text': {
      const res = new Response('Hello from everywhere!\n', { conditionalResponse: true });
      res.addEtag();
      return res;
    }
    case '/stream':
      return new Response(
        (async function* () {
          yield encoder.encode('first\n');
          await sleep(300);
          yield encoder.encode('last\n');
        })(),
      );
    case '/events':
      return Response.eventStream(
        (async function* () {
          yield 'first';
          await sleep(100);
          yield { event: 'update', id: '2', data: 'two\nlines' };
        })(),
        { heartbeat: 0 },
      );
    case '/ticks':
      return Response.eventStream(
        (async function* () {
          for (let n = 0; ; n++) {
            yield { id: String(n), data: 'tick' };
            await sleep(50);
          }
        })(),
        { heartbeat: 0 },
      );
    case '/upload':
      return req.getResponse(upload);
    case '/form': {
      if (req.method !== 'POST') throw new HTTPMethodNotAllowed(['POST']);
      const files = await req.files();
      const form = await req.form();
      return Response.json({
        fields: Object.fromEntries(form),
        files: files.getAll('file').map((file) => ({ name: file.filename, type: file.contentType, size: file.size })),
      });
    }
    case '/cookies': {
      const res = new Response(String(req.environ.HTTP_COOKIE ?? ''));
      res.setCookie('first', '1');
      res.setCookie('second', '2');
      return res;
    }
    case '/redirect':
      return redirect(`${req.applicationUrl}/text`, 302);
    case '/session': {
      const session = sessionOf(req);
      if (req.method === 'POST') {
        const user = (await req.form()).get('user') ?? '';
        // The session cookie cannot pass 4096 bytes: a longer name would be a 500.
        if (user.length > MAX_USER_LENGTH) throw new HTTPUnprocessableContent(`The user name is longer than ${MAX_USER_LENGTH} characters.`);
        session.set('user', user);
        session.flash(`Welcome, ${user}`, 'info');
        const seeOther = redirect(`${req.applicationUrl}/session`, 303);
        tickets.remember(seeOther, user || 'anonymous');
        return seeOther;
      }
      if (req.method === 'DELETE') {
        session.clear();
        return tickets.forget(new Response(null, { status: 204 }));
      }
      return Response.json({ user: session.get<string>('user') ?? null, remoteUser: req.remoteUser ?? null, flashes: session.consumeFlashes() });
    }
    case '/error/before':
      throw new Error('the app failed before the headers');
    case '/error/after':
      return req.getResponse(failAfterHeaders);
    case '/hangup':
      return req.getResponse(endless);
    case '/hangup/status':
      return Response.json(hangups);
    case '/page': {
      // `true` where a 103 went out (Node's servers), `false` where none can (the fetch adapters).
      const hinted = req.sendEarlyHints(`<${req.applicationUrl}/text>; rel=preload; as=fetch`);
      const html =
        `<!doctype html>\n<meta charset="utf-8">\n<title>everywhere</title>\n<p id="hints">${hinted}</p>\n` +
        `<script nonce="${cspNonce(req)}">document.title += ' (script ran)';</script>\n`;
      return new Response(html, { contentType: 'text/html' });
    }
    default:
      throw new HTTPNotFound(`nothing at ${path}`);
  }
});

/** When {@link serverTiming}'s `before` hook ran, by `performance.now()`, ms. */
const startedKey = defineEnvironKey<number>('example.started');

/**
 * `Server-Timing: app;dur=<ms>` on every answer of the app below, the time it took: a
 * middleware as two hooks. (workerd stops the clock while a request runs, so it says 0 there.)
 */
const serverTiming = defineMiddleware({
  before(req) {
    startedKey.set(req, performance.now());
  },
  after(req, res) {
    res.headers.set('Server-Timing', `app;dur=${(performance.now() - (startedKey.get(req) ?? 0)).toFixed(1)}`);
  },
});

/**
 * The app: {@link main} (with its sessions and login tickets), with examples/hono-inside.ts
 * mounted at `/hono`, in the stack of the table above.
 */
export const app: App = compose(
  requestId,
  (inner) => secureHeaders(inner, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src': ["'self'"] }, nonce: true } }),
  (inner) => cors(inner, { origin: [SPA_ORIGIN], credentials: true, exposeHeaders: ['X-Request-Id'] }),
  (inner) => crossOriginProtection(inner, { trustedOrigins: [SPA_ORIGIN] }),
)(mount({ '/hono': honoInside, '/unavailable': unavailable, '/': tickets.middleware(sessions.middleware(serverTiming(main))) }));
