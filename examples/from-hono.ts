/**
 * A small Hono 4 blog ported to tsgi, one Hono idiom at a time (docs/hono.md, "Coming from
 * Hono", explains each):
 *
 * | Hono 4                                                   | Here                                                          |
 * | -------------------------------------------------------- | ------------------------------------------------------------- |
 * | `app.get('/posts/:id', …)`, `c.req.param('id')`          | `RouteMap` rule `'/posts/<int:id>'`, the handler's `{ id }`    |
 * | `c.req.query('limit')`, `c.req.queries('tag')`           | `req.query.get('limit')`, `req.query.getAll('tag')`            |
 * | `c.req.header('Last-Event-ID')`                          | `req.headers.get('last-event-id')` (`null` when absent)        |
 * | `c.req.json()`, `c.req.valid('json')`                    | `await req.json()` (400 on bad JSON), then a shape check (422)  |
 * | `c.req.parseBody()`                                      | `await req.form()`                                             |
 * | `c.json(v, 201)`, `c.text()`, `c.html()`                 | `Response.json(v, { status: 201 })`, a string, `contentType: 'text/html'` |
 * | `c.redirect('/')`, `c.notFound()`                        | `redirect('/')` (303), `throw new HTTPNotFound()`              |
 * | `c.set('store', s)` / `c.get('store')`                   | `storeKey.set(req, s)` / `storeKey.get(req)` (`defineEnvironKey`) |
 * | `createMiddleware(async (c, next) => …)`                 | `defineMiddleware({ before, after })`                          |
 * | `app.route('/api', api)`                                 | `mount({ '/api': api, '': site })`                             |
 * | `logger()`, `cors()`, `secureHeaders()`, `compress()`    | `accessLog`, `cors`, `secureHeaders`, `compress`               |
 * | `etag()` on `/api/*`                                      | `etag` around the API: a tag and 304s for each answer in memory |
 * | `basicAuth({ … })` on `/admin/*`                         | `basicAuth(admin, { verify: staticUsers(…) })`, mounted        |
 * | `jwt({ secret })` on one route                           | `bearerAuth` with examples/gateway.ts's `verifyJwt`, around that route's app |
 * | `csrf()`                                                 | `crossOriginProtection`                                        |
 * | `throw new HTTPException(422, { message })`              | `throw new HTTPUnprocessableContent(message)`                  |
 * | `app.notFound()`, `app.onError()`                        | `errorPages` (one renderer), `errors` (the logged 500)         |
 * | `streamSSE(c, async (stream) => …)`                      | `Response.eventStream(asyncGenerator)`                         |
 * | `getCookie(c, 'theme')`, `setCookie(c, …)`               | `req.cookies.theme`, `res.setCookie(…)`                         |
 * | `export default app`                                     | `export default { fetch: toFetchHandler(app) }`                |
 *
 * The routes not ported yet stay Hono: the Hono app of examples/hono-inside.ts answers under
 * `/legacy` (`fromFetchHandler`), so a port can go one route at a time.
 *
 * ```sh
 * JWT_SECRET=$(openssl rand -base64 32) ADMIN_PASSWORD=s3cret \
 *   node --conditions=tsgi-source src/cli/main.ts serve examples/from-hono.ts:app --no-access-log
 * curl http://127.0.0.1:8000/api/posts?tag=tsgi
 * curl -N http://127.0.0.1:8000/events
 * ```
 *
 * The default export is the fetch handler, as a Hono module's `export default app` is: Bun
 * serves it as it is (`npx bun --conditions=tsgi-source examples/from-hono.ts`; an installed
 * tsgi needs no flag), Deno with `Deno.serve(handler.fetch)`, a Worker as its module
 * (docs/deployment.md). It imports examples/gateway.ts for its JWT check, which builds that
 * example's gateway too (idle: no connection is made until a request is proxied).
 *
 * @module
 */
import {
  type App,
  HTTPBadRequest,
  HTTPNotFound,
  HTTPUnprocessableContent,
  HTTPUnsupportedMediaType,
  type LogStream,
  Request,
  Response,
  compose,
  defineEnvironKey,
  defineMiddleware,
  redirect,
} from 'tsgi';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { escapeHtml } from 'tsgi/http';
import {
  accessLog,
  basicAuth,
  bearerAuth,
  compress,
  cors,
  crossOriginProtection,
  errorPages,
  errors,
  etag,
  mount,
  secureHeaders,
  staticUsers,
} from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { type User, hmacKey, verifyJwt } from './gateway.ts';
import { hono } from './hono-inside.ts';

/** A blog post. */
export interface Post {
  id: number;
  title: string;
  body: string;
  tags: string[];
}

/** Where the posts are kept (a database in a real app). */
export interface PostStore {
  list(): Post[];
  get(id: number): Post | undefined;
  add(post: Omit<Post, 'id'>): Post;
}

/** An in-memory {@link PostStore} holding `posts`. */
export function memoryStore(posts: Post[] = []): PostStore {
  const byId = new Map(posts.map((post) => [post.id, post]));
  let last = Math.max(0, ...byId.keys());
  return {
    list: () => [...byId.values()],
    get: (id) => byId.get(id),
    add(post) {
      const added = { id: ++last, ...post };
      byId.set(added.id, added);
      return added;
    },
  };
}

/** Hono's `c.set('store', …)` / `c.get('store')`: a typed environ key. */
export const storeKey = defineEnvironKey<PostStore>('blog.store');
/** When the request came in (`performance.now()`), for `X-Response-Time`. */
export const startedKey = defineEnvironKey<number>('blog.started');
/** The JWT's user that `bearerAuth` let in (its `userKey`): Hono's `c.get('jwtPayload')`. */
const userKey = defineEnvironKey<User>('blog.user');

/** Hono's `app.use(async (c, next) => { c.set('store', store); await next() })`. */
const withStore = defineMiddleware<{ store: PostStore }>({
  before(req, { store }) {
    storeKey.set(req, store);
  },
});

/** Hono's `createMiddleware` timing a request: `X-Response-Time` on every answer, error pages included. */
export const responseTime = defineMiddleware({
  before(req) {
    startedKey.set(req, performance.now());
  },
  after(req, res) {
    const started = startedKey.get(req) ?? performance.now();
    res.headers.set('X-Response-Time', `${(performance.now() - started).toFixed(1)}ms`);
  },
});

const store = (req: Request) => storeKey.get(req)!;
const THEMES = ['light', 'dark'];
/** The theme cookie (`getCookie(c, 'theme')`), if it names a theme: the client may send anything. */
const themeOf = (req: Request) => {
  const theme = req.cookies.theme;
  return theme !== undefined && THEMES.includes(theme) ? theme : 'light';
};

/** `c.req.valid('json')` of a zod schema, by hand: the post's members, or a 422 naming the bad one. */
function validPost(value: unknown): Omit<Post, 'id'> {
  const post = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  if (typeof post.title !== 'string' || post.title.trim() === '') throw new HTTPUnprocessableContent('title: a non-empty string.');
  if (typeof post.body !== 'string') throw new HTTPUnprocessableContent('body: a string.');
  const tags = post.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) throw new HTTPUnprocessableContent('tags: an array of strings.');
  return { title: post.title, body: post.body, tags };
}

/** The posts carrying every tag of `?tag=a&tag=b` (Hono's `c.req.queries('tag')`). */
function tagged(req: Request): Post[] {
  const tags = req.query.getAll('tag');
  return store(req).list().filter((post) => tags.every((tag) => post.tags.includes(tag)));
}

/** The HTML pages: `app.get('/')`, `app.post('/theme')`, `app.get('/posts/:id')`, `app.get('/events')`. */
export const siteRoutes = new RouteMap({
  home: '/',
  theme: { path: '/theme', methods: ['POST'] },
  post: '/posts/<int:id>',
  events: '/events',
});

const page = (theme: string, title: string, body: string) =>
  new Response(`<!doctype html><html class="${escapeHtml(theme)}"><title>${escapeHtml(title)}</title>${body}</html>`, { contentType: 'text/html' });

const site = siteRoutes.app({
  home(req, _values, urls) {
    const items = tagged(req).map((post) => `<li><a href="${urls.build('post', { id: post.id })}">${escapeHtml(post.title)}</a></li>`);
    return page(themeOf(req), 'Blog', `<ul>${items.join('')}</ul>`);
  },
  async theme(req, _values, urls) {
    const theme = (await req.form()).get('theme'); // (await c.req.parseBody()).theme
    if (theme === undefined || !THEMES.includes(theme)) throw new HTTPBadRequest(`theme: one of ${THEMES.join(', ')}.`);
    const res = redirect(urls.build('home')).getResponse(req); // c.redirect('/'), a 303 here
    res.setCookie('theme', theme, { maxAge: 365 * 24 * 3600, httpOnly: true, sameSite: 'lax' }); // setCookie(c, 'theme', …)
    return res;
  },
  post(req, { id }) {
    const post = store(req).get(id);
    if (post === undefined) throw new HTTPNotFound(`There is no post ${id}.`); // c.notFound()
    return page(themeOf(req), post.title, `<h1>${escapeHtml(post.title)}</h1><p>${escapeHtml(post.body)}</p>`);
  },
  events(req) {
    // streamSSE(c, async (stream) => { … await stream.writeSSE({ id, event, data }) })
    const lastId = req.headers.get('last-event-id') ?? '0'; // c.req.header('Last-Event-ID')
    const after = Number(lastId);
    if (!/^\d{1,15}$/.test(lastId)) throw new HTTPBadRequest('Last-Event-ID: a post id.');
    const posts = store(req).list().filter((post) => post.id > after);
    return Response.eventStream(
      (async function* () {
        for (const post of posts) yield { id: String(post.id), event: 'post', data: JSON.stringify(post) };
        yield { event: 'done', data: '' }; // the page closes its EventSource on it
      })(),
    );
  },
});

/** The JSON API, mounted at `/api`: Hono's `const api = new Hono()` then `app.route('/api', api)`. */
export const apiRoutes = new RouteMap({
  posts: '/posts',
  createPost: { path: '/posts', methods: ['POST'] },
  post: '/posts/<int:id>',
  me: '/me',
});

/** Options of {@link createBlog}. */
export interface BlogOptions {
  /** The posts; default an empty {@link memoryStore}. */
  store?: PostStore | undefined;
  /** The HS256 key of the API's tokens (at least 32 bytes: examples/gateway.ts's `hmacKey`). */
  secret: string | Uint8Array;
  /** The password of the user `admin` on `/admin`. */
  adminPassword: string;
  /** Origins whose pages may call the API (CORS); default none. */
  origins?: string[] | undefined;
  /** Where the access log goes (Hono's `logger()`); default stderr. */
  log?: LogStream | undefined;
  /** Where `errors` logs a 500 (Hono's `app.onError` console.error); default the server's log. */
  errorLog?: LogStream | undefined;
}

/** The whole app: the site at `/`, the API at `/api`, an admin page, the Hono leftovers at `/legacy`. */
export async function createBlog(options: BlogOptions): Promise<App> {
  const key = await hmacKey(options.secret);
  // jwt({ secret }) on the writes only: one middleware around one route's app, built once.
  const guard = (app: App) => bearerAuth(app, { realm: 'blog', verify: (token) => verifyJwt(token, key), userName: (user) => user.id, userKey });
  const createPost = guard(
    Request.application(async (req) => {
      if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
      const post = store(req).add(validPost(await req.json({ maxBodySize: 64 * 1024 })));
      const res = Response.json(post, { status: 201 }); // c.json(post, 201)
      res.location = apiRoutes.bind(req).build('post', { id: post.id }, { external: true }); // c.header('Location', …)
      return res;
    }),
  );
  const me = guard(Request.application((req) => Response.json({ user: userKey.get(req)?.id })));
  const api = apiRoutes.app({
    posts(req) {
      const limit = Number(req.query.get('limit') ?? 20); // c.req.query('limit')
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100) throw new HTTPBadRequest('limit: 1 to 100.');
      return Response.json(tagged(req).slice(0, limit));
    },
    createPost: () => createPost,
    post(req, { id }) {
      const post = store(req).get(id);
      if (post === undefined) throw new HTTPNotFound(`There is no post ${id}.`);
      return Response.json(post); // tagged by etag() around the API
    },
    me: () => me,
  });
  const admin = basicAuth(
    Request.application((req) => `Hello, ${req.remoteUser}.`), // c.text(…)
    { realm: 'admin', verify: staticUsers({ admin: options.adminPassword }) },
  );
  const routes = mount({
    // app.use('/api/*', cors({ origin })): outside the API's own errors, so its 500 has CORS too
    '/api': cors(errors(etag(api), { log: options.errorLog }), { origin: options.origins ?? [], exposeHeaders: ['ETag', 'Location'], maxAge: 600 }),
    '/admin': admin,
    '/legacy': fromFetchHandler(hono.fetch, { stripPrefix: true }),
    '': crossOriginProtection(site), // csrf()
  });
  return compose(
    (app) => accessLog(app, { log: options.log }), // logger()
    responseTime,
    secureHeaders, // secureHeaders()
    (app) => errorPages(app, { render }), // app.notFound(), app.onError()
    (app) => errors(app, { log: options.errorLog }),
    compress, // compress()
    (app) => withStore(app, { store: options.store ?? memoryStore() }),
  )(routes);
}

/**
 * Hono's `app.notFound((c) => c.json(…, 404))` and `app.onError((err, c) => c.json(…, 500))` in
 * one: JSON for the API, an HTML page for the site; the status is the error's.
 */
function render(error: { code: number; title: string; detail?: string | undefined }, req: Request) {
  if (req.path.startsWith('/api/')) return Response.json({ error: error.title, detail: error.detail ?? null });
  const detail = error.detail === undefined ? '' : `<p>${escapeHtml(error.detail)}</p>`;
  return `<!doctype html><title>${error.code} ${escapeHtml(error.title)}</title><h1>${escapeHtml(error.title)}</h1>${detail}`;
}

/** The blog with a few posts; the secrets from the environment, else random (no token, no admin gets in). */
export const app = await createBlog({
  store: memoryStore([
    { id: 1, title: 'Hello, tsgi', body: 'Ported from Hono.', tags: ['tsgi', 'hono'] },
    { id: 2, title: 'Event streams', body: 'streamSSE is Response.eventStream.', tags: ['tsgi'] },
  ]),
  secret: process.env.JWT_SECRET ?? crypto.getRandomValues(new Uint8Array(32)),
  adminPassword: process.env.ADMIN_PASSWORD ?? crypto.randomUUID(),
});

/** Hono's `export default app`: what Bun, Deno (`Deno.serve(handler.fetch)`) and Workers run. */
const handler = { fetch: toFetchHandler(app) };
export default handler;
