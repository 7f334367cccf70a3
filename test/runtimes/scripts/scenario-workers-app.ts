/**
 * A Workers developer's small site ported to tsgi by docs/deployment.md: signed cookie sessions
 * whose secret the caller gives (a Worker's `env.SESSION_SECRET` binding from
 * `cloudflare:workers`, `process.env` on Node), a binding read per request through `fetchEnvKey`,
 * a login form (urlencoded or multipart with a small file), a JSON API with CORS and ETags,
 * streamed answers (a ReadableStream and an async generator), work after the answer
 * (`callOnClose`, `ctx.waitUntil` on a Worker), redirects, errors and `compress`; static files
 * under `/public` from the app the caller gives (the `ASSETS` binding on a Worker, `directoryApp`
 * on Node).
 */
import { HTTPMovedPermanently, HTTPSeeOther, HTTPUnauthorized, Response, compose } from 'tsgi';
import type { App } from 'tsgi';
import { fetchEnvKey } from 'tsgi/fetch';
import { CookieSessions, compress, cors, errors, etag, mount, sessionOf } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

const routes = new RouteMap({
  home: '/',
  login: { path: '/login', methods: ['POST'] },
  items: '/api/items',
  readable: '/stream/readable',
  generator: '/stream/generator',
  after: '/after',
  afterStatus: '/after/status',
  old: '/old',
  boom: '/boom',
  whoami: '/whoami',
  echo: { path: '/echo', methods: ['POST'] },
  big: '/big',
  binding: '/binding',
  long: '/stream/long',
  longStatus: '/stream/long/status',
});

let afterDone = 0;
let longClosed = 0;
const encoder = new TextEncoder();

const site = routes.app({
  home(req) {
    const session = sessionOf(req);
    const notes = session.consumeFlashes().map((f) => f.message);
    return new Response(`${notes.join(',')}|${session.get<string>('user') ?? 'stranger'}\n`);
  },
  async login(req) {
    const form = await req.form();
    const file = (await req.files()).get('avatar');
    if (form.get('password') !== 'pw') throw new HTTPUnauthorized('Wrong password.');
    const session = sessionOf(req);
    session.set('user', form.get('user') ?? '');
    session.flash(`hi ${form.get('user')}${file ? ` (${file.filename}, ${file.size} bytes)` : ''}`);
    const res = new HTTPSeeOther('/').getResponse(req);
    res.setCookie('theme', 'dark', { path: '/', httpOnly: true });
    return res;
  },
  items: () => Response.json([{ id: 1 }, { id: 2 }]),
  readable: () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('one\n'));
          controller.enqueue(encoder.encode('two\n'));
          controller.close();
        },
      }),
      { contentType: 'text/plain' },
    ),
  generator: () =>
    new Response(
      (async function* () {
        yield 'a\n';
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield 'b\n';
      })(),
      { contentType: 'text/plain' },
    ),
  after() {
    const res = new Response('answered\n');
    res.callOnClose(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      afterDone++;
    });
    return res;
  },
  afterStatus: () => new Response(`${afterDone}\n`),
  old: () => {
    throw new HTTPMovedPermanently('/');
  },
  boom: () => {
    throw new Error('boom');
  },
  whoami: (req) =>
    Response.json({ addr: req.remoteAddr ?? null, scheme: req.scheme, host: req.host, url: req.url, protocol: req.environ.SERVER_PROTOCOL, multiprocess: req.environ['tsgi.multiprocess'] }),
  async echo(req) {
    return new Response(await req.bytes(), { contentType: 'application/octet-stream' });
  },
  big: () => new Response('x'.repeat(20_000), { contentType: 'text/plain' }),
  binding: (req) => new Response(`${(fetchEnvKey.get(req) as { GREETING?: string } | undefined)?.GREETING ?? process.env.GREETING}\n`),
  long: () =>
    new Response(
      (async function* () {
        try {
          for (let i = 0; i < 200; i++) {
            yield `${i}\n`;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } finally {
          longClosed++;
        }
      })(),
      { contentType: 'text/plain' },
    ),
  longStatus: () => new Response(`${longClosed}\n`),
});

/** The site, its sessions signed with `secret` (at least 32 bytes), `statics` mounted at `/public`. */
export function makeApp(secret: string, statics: App): App {
  const sessions = new CookieSessions({ secret });
  const dynamic = compose(
    (inner) => cors(inner, { origin: ['https://front.example'], credentials: true }),
    errors,
    compress,
    etag,
    sessions.middleware,
  )(site);
  return mount({ '/public': statics, '/': dynamic });
}
