/**
 * The API of test/scenario-spa.test.ts and test/browser/spa-cross-port.test.ts: a single-page
 * app's JSON API on another origin, built as docs/middleware-cors.md, middleware-csrf.md and
 * sessions.md say: `secureHeaders`, `cors` with credentials, `errorPages` answering JSON,
 * `errors`, `crossOriginProtection` with the same origins, and a `__Host-` session cookie.
 */
import { type App, type Environ, HTTPForbidden, HTTPUnauthorized, HTTPUnprocessableContent, type Request, Response, compose } from 'tsgi';
import { CookieSessions, cors, crossOriginProtection, errorPages, errors, secureHeaders, sessionOf, staticUsers } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

/** The API, as the docs build it: `origin` as cors takes it (a list, or a function that exempt reuses); `seen` records the note calls that reached the app; `clock.now` is the sessions' clock. */
export function spaApi(origin: string[] | ((o: string) => boolean), clock: { now: number } = { now: Date.now() }, seen: string[] = [], sameSite: 'none' | 'lax' = 'none'): App {
  const sessions = new CookieSessions({
    secret: 'a session secret of at least 32 bytes for the scenario',
    cookieName: '__Host-session',
    secure: true,
    sameSite, // 'none': app.example and api.example are two sites
    maxAge: 3600,
    now: () => clock.now,
  });
  const check = staticUsers({ bob: 'hunter2' });
  const notes = new Map<number, string>();
  const routes = new RouteMap({
    login: { path: '/login', methods: ['POST'] },
    logout: { path: '/logout', methods: ['POST'] },
    me: '/me',
    note: { path: '/notes/<int:id>', methods: ['GET', 'PUT', 'DELETE'] },
    boom: '/boom',
  });
  const user = (req: Request): string => {
    const name = sessionOf(req).get<string>('user');
    if (name === undefined) throw new HTTPUnauthorized('Log in first.', { wwwAuthenticate: 'Cookie realm="api"' });
    return name;
  };
  const api = routes.app({
    login: async (req) => {
      const body = await req.json({ maxBodySize: 4096 });
      const { user: name, password } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      const found = check(String(name ?? ''), String(password ?? ''));
      if (found === false) throw new HTTPForbidden('Wrong user name or password.');
      sessionOf(req).clear();
      sessionOf(req).set('user', found);
      return Response.json({ user: found });
    },
    logout: (req) => {
      sessionOf(req).clear();
      return new Response(null, { status: 204 });
    },
    me: (req) => Response.json({ user: user(req) }, { headers: { 'X-Request-Cost': '1' } }),
    note: async (req, { id }) => {
      user(req);
      const key = id as number;
      seen.push(`${req.method} ${key}`);
      if (req.method === 'GET') return Response.json({ id: key, text: notes.get(key) ?? null });
      if (req.method === 'DELETE') {
        notes.delete(key);
        return new Response(null, { status: 204 });
      }
      const body = await req.json({ maxBodySize: 4096 });
      const text = typeof body === 'object' && body !== null ? (body as { text?: unknown }).text : undefined;
      if (typeof text !== 'string') throw new HTTPUnprocessableContent('text must be a string');
      notes.set(key, text);
      return Response.json({ id: key, text }, { headers: { ETag: '"n1"' } });
    },
    boom: () => {
      throw new Error('kaput');
    },
  });
  // A function origin has no list for crossOriginProtection: the same check goes to `exempt`.
  const csrf = typeof origin === 'function'
    ? { exempt: (environ: Environ) => typeof environ.HTTP_ORIGIN === 'string' && origin(environ.HTTP_ORIGIN) }
    : { trustedOrigins: origin };
  return compose(
    secureHeaders,
    (inner) => cors(inner, { origin, credentials: true, exposeHeaders: ['ETag', 'X-Request-Cost'], maxAge: 600 }),
    (inner) => errorPages(inner, { render: (error) => Response.json({ code: error.code, message: error.detail ?? error.title }, { status: error.code }) }),
    (inner) => errors(inner, { log: { write() {} } }),
    (inner) => crossOriginProtection(inner, csrf),
    sessions.middleware,
  )(api);
}
