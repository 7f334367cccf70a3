/**
 * An Express 5 app ported to tsgi, one piece at a time (docs/express.md, "Coming from
 * Express"): a small shop with a JSON API for a front end on another origin, a page with a
 * sign-in form, photo uploads and static files. The Express app it was, abridged:
 *
 * ```js
 * app.set('trust proxy', 1);
 * app.use(morgan('combined'), helmet({ contentSecurityPolicy: false }));
 * app.use(cors({ origin: 'http://localhost:5173', credentials: true }));
 * app.use(session({ secret, resave: false, saveUninitialized: false }));
 * app.use((req, res, next) => { res.locals.user = req.session.user ?? null; next(); });
 * app.use('/static', express.static('public', { maxAge: '1h' }));
 * const api = express.Router();
 * api.use(express.json());                                          // limit: '100kb'
 * api.get('/items', (req, res) => res.json([...items.values()]));
 * api.post('/items', (req, res) => { … res.status(201).location(…).json(item); });
 * api.get('/items/:id', (req, res) => item ? res.json(item) : res.status(404).json({ error: … }));
 * api.post('/items/:id/photo', multer({ dest, limits: { fileSize: 1 << 20 } }).single('photo'), …);
 * api.get('/items/:id/photo', (req, res) => req.query.download ? res.download(p, name) : res.sendFile(p));
 * api.get('/items.csv', (req, res) => res.attachment('items.csv').send(csv));
 * api.get('/whoami', (req, res) => res.json({ ip: req.ip, protocol: req.protocol, hostname: req.hostname }));
 * app.use('/api', api);
 * app.post('/login', express.urlencoded(), (req, res) => { req.session.user = …; res.cookie('theme', …); res.redirect(303, '/'); });
 * app.use((err, req, res, next) => { console.error(err); res.status(err.status ?? 500).json({ error: … }); });
 * app.listen(3000);
 * ```
 *
 * | Route | Does |
 * | --- | --- |
 * | `GET /` | an HTML page: `Hello, <user>` (the session's user, through the `res.locals`-like {@link userKey}), the `theme` cookie, a sign-in or sign-out form |
 * | `POST /login` | urlencoded `user` (and `theme`): the user into a new session, a `theme` cookie for 30 days, `303` to `/` |
 * | `POST /logout` | clears the session and the `theme` cookie, `303` to `/` |
 * | `GET /static/…` | examples/public, an hour in caches (`express.static` → `directoryApp`) |
 * | `GET /api/items` | the items, JSON |
 * | `POST /api/items` | `{"name","price"}` (JSON, at most 100 KiB): `201` with `Location`; `403` unless signed in, `415` for another type, `400` malformed, `413` too large, `422` invalid |
 * | `GET`, `DELETE /api/items/<int:id>` | one item (`404` as `{"error"}` when there is none), or `204` |
 * | `POST /api/items/<int:id>/photo` | a multipart `photo` (an image, at most 1 MiB: `413` past it), saved to disk |
 * | `GET /api/items/<int:id>/photo` | the photo (`res.sendFile`: ETag, ranges); `?download` sends it as an attachment (`res.download`) |
 * | `GET /api/items.csv` | every item as a CSV download |
 * | `GET /api/whoami` | `req.ip`, `req.protocol`, `req.hostname` as the app sees them behind one proxy (`X-Forwarded-For`, `-Proto`, `-Host`) |
 *
 * Every error under `/api` (the router's 404 and 405, a body's 400, 413 and 415, a 500) is
 * `{"error": "<reason>"}`, as the Express error handler made it; the rest keep tsgi's pages.
 * Every other answer in memory has an `ETag` and answers `304` to it, as `res.send` did.
 *
 * ```sh
 * SESSION_SECRET=$(openssl rand -base64 32) npx tsgi serve examples/from-express.ts:app   # not --proxy-headers: the app has its proxyFix
 * node --conditions=tsgi-source examples/from-express.ts      # or serve() itself, with a morgan-like log
 * curl -H 'content-type: application/json' -d '{"name":"mug","price":9}' http://127.0.0.1:8000/api/items   # 403: sign in first
 * ```
 *
 * The other way round, a tsgi app mounted inside an Express app, is examples/express.ts.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type App,
  type AppLike,
  HTTPForbidden,
  HTTPUnprocessableContent,
  HTTPUnsupportedMediaType,
  type LogStream,
  type Request,
  Response,
  compose,
  defineEnvironKey,
  defineMiddleware,
  redirect,
  serve,
} from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import {
  CookieSessions,
  accessLog,
  cors,
  crossOriginProtection,
  directoryApp,
  errorPages,
  errors,
  etag,
  fileApp,
  mount,
  proxyFix,
  secureHeaders,
  sessionOf,
} from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

/** An item of the shop; `photo` is set once one was uploaded. */
export interface Item {
  id: number;
  name: string;
  price: number;
  photo?: { path: string; filename: string; contentType: string } | undefined;
}

/**
 * `res.locals.user`: the signed-in user's name, or `null`, set for every request by
 * {@link locals} and read by any handler below it.
 */
export const userKey = defineEnvironKey<string | null>('from_express.user');

/** `app.use((req, res, next) => { res.locals.user = …; next(); })`: a `before` hook, no promise per request. */
const locals = defineMiddleware({
  before(req) {
    userKey.set(req, sessionOf(req).get<string>('user') ?? null);
  },
});

/** `express.json()`'s and `express.urlencoded()`'s default `limit`, `'100kb'`. */
const BODY_LIMIT = 100 * 1024;
/** The longest user name taken at sign-in, in UTF-16 code units: it is kept in the session cookie. */
const MAX_USER_LENGTH = 100;
/** multer's `limits.fileSize` of the photo upload. */
const PHOTO_LIMIT = 1024 * 1024;

/** The API's routes: `express.Router()` with `:id` params, typed here (`id` is a number). */
export const apiRoutes = new RouteMap({
  items: { path: '/items', methods: ['GET', 'POST'] },
  item: { path: '/items/<int:id>', methods: ['GET', 'DELETE'] },
  photo: { path: '/items/<int:id>/photo', methods: ['GET', 'POST'] },
  csv: '/items.csv',
  whoami: '/whoami',
});

/** The site's routes. */
export const siteRoutes = new RouteMap({
  home: '/',
  login: { path: '/login', methods: ['POST'] },
  logout: { path: '/logout', methods: ['POST'] },
});

/** The `name` and `price` of a JSON body: 415 for another type, 422 naming what is wrong. */
async function readItem(req: Request): Promise<Pick<Item, 'name' | 'price'>> {
  // express.json() skips other types (req.body stays undefined); req.json() parses any, so check.
  if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
  const body: unknown = await req.json({ maxBodySize: BODY_LIMIT }); // 400 malformed, 413 too large
  const { name, price } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '') throw new HTTPUnprocessableContent('name must be a non-empty string.');
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) throw new HTTPUnprocessableContent('price must be a number, 0 or more.');
  return { name: name.trim(), price };
}

/** A CSV field, quoted when it must be (RFC 4180). */
const csvField = (value: string | number) => (/[",\r\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));

/** The API's app, without middleware: `items` is its store, photos are saved under `uploads`. */
function apiApp(items: Map<number, Item>, uploads: string): App {
  let last = Math.max(0, ...items.keys());
  return apiRoutes.app({
    items: async (req, _args, urls) => {
      if (req.method === 'GET') return Response.json([...items.values()]);
      if (userKey.get(req) === null) throw new HTTPForbidden('Sign in first.');
      const item: Item = { id: ++last, ...(await readItem(req)) };
      items.set(item.id, item);
      const res = Response.json(item, { status: 201 }); // res.status(201).json(item)
      res.location = urls.build('item', { id: item.id }, { external: true }); // /api/items/1, under the mount
      return res;
    },
    item: (req, { id }) => {
      const item = items.get(id);
      if (!item) return Response.json({ error: `There is no item ${id}.` }, { status: 404 }); // res.status(404).json(…)
      if (req.method === 'DELETE') {
        items.delete(id);
        return new Response(null, { status: 204 });
      }
      return Response.json(item);
    },
    photo: async (req, { id }) => {
      const item = items.get(id);
      if (!item) return Response.json({ error: `There is no item ${id}.` }, { status: 404 });
      if (req.method === 'POST') {
        // multer's upload.single('photo'): one file, limits enforced while it streams (413).
        const photo = (await req.files({ maxFileSize: PHOTO_LIMIT, maxFiles: 1, maxBodySize: PHOTO_LIMIT + BODY_LIMIT })).get('photo');
        if (!photo) throw new HTTPUnprocessableContent('Send the image as the multipart field "photo".');
        if (!photo.contentType.startsWith('image/')) throw new HTTPUnsupportedMediaType('The photo must be an image.');
        await mkdir(uploads, { recursive: true });
        const saved = path.join(uploads, `item-${id}`); // never photo.filename: the client chose it
        await photo.saveTo(saved);
        item.photo = { path: saved, filename: photo.safeFilename || `item-${id}`, contentType: photo.contentType };
        return new Response(null, { status: 204 });
      }
      if (!item.photo) return Response.json({ error: `Item ${id} has no photo.` }, { status: 404 });
      // res.sendFile(p) / res.download(p, name): the file app answers GET, HEAD, 304 and ranges.
      const download = req.query.has('download') ? item.photo.filename : false;
      return fileApp(item.photo.path, { contentType: item.photo.contentType, download });
    },
    csv: () => {
      const lines = ['id,name,price', ...[...items.values()].map((i) => [i.id, i.name, i.price].map(csvField).join(','))];
      // res.attachment('items.csv').send(csv): Content-Type is set here, attachment() sets only the disposition.
      return new Response(`${lines.join('\r\n')}\r\n`, { contentType: 'text/csv' }).attachment('items.csv');
    },
    whoami: (req) => Response.json({ ip: req.remoteAddr, protocol: req.scheme, hostname: req.hostname, secure: req.scheme === 'https' }),
  });
}

/** The page of `GET /`. */
function home(req: Request): Response {
  const user = userKey.get(req) ?? null;
  const theme = req.cookies.theme === 'dark' ? 'dark' : 'light';
  const form = user === null
    ? '<form method="post" action="login"><input name="user" required> <select name="theme"><option>light</option><option>dark</option></select> <button>Sign in</button></form>'
    : '<form method="post" action="logout"><button>Sign out</button></form>';
  const html = `<!doctype html>
<html class="${theme}"><title>Shop</title><link rel="stylesheet" href="static/style.css">
<h1>Hello, ${escapeHtml(user ?? 'stranger')}</h1>
${form}
<p><a href="api/items">The items, as JSON</a></p>
`;
  return new Response(html, { contentType: 'text/html' });
}

/** The site's app: the page, the sign-in and the sign-out. */
function siteApp(): App {
  return siteRoutes.app({
    home,
    login: async (req, _args, urls) => {
      const form = await req.form({ maxBodySize: BODY_LIMIT }); // express.urlencoded(): 413 past the limit
      const user = form.getOne('user').trim(); // 400 when missing or given twice
      if (user === '') throw new HTTPUnprocessableContent('Give a user name.');
      // It goes into the session cookie, which cannot pass 4096 bytes: a longer name would be a 500.
      if (user.length > MAX_USER_LENGTH) throw new HTTPUnprocessableContent(`The user name is longer than ${MAX_USER_LENGTH} characters.`);
      const session = sessionOf(req);
      session.clear(); // a new session for the login (express-session's req.session.regenerate())
      session.set('user', user);
      const res = redirect(urls.build('home'), 303).getResponse(req); // res.redirect(303, '/')
      res.setCookie('theme', form.get('theme') === 'dark' ? 'dark' : 'light', { maxAge: 30 * 24 * 3600, sameSite: 'lax' }); // seconds, not ms
      return res;
    },
    logout: (req, _args, urls) => {
      sessionOf(req).clear(); // req.session.destroy()
      return redirect(urls.build('home'), 303).getResponse(req).deleteCookie('theme'); // res.clearCookie('theme')
    },
  });
}

/** `{"error": "<reason>"}` for every error page under `/api`: the Express error handler's body. */
const jsonErrors = (app: AppLike) =>
  errorPages(app, { render: (error) => Response.json({ error: error.detail ?? error.title }) }); // a 500 has no detail: its title

/** Options of {@link createApp}. */
export interface FromExpressOptions {
  /** express-session's `secret`: 32 bytes or more. Default `$SESSION_SECRET`, else a fixed one for development. */
  secret?: string | undefined;
  /** The origins of the front ends that call the API with cookies (cors's `origin`). Default `['http://localhost:5173']`. */
  frontEnds?: readonly string[] | undefined;
  /** The store; default a new, empty one. */
  items?: Map<number, Item> | undefined;
  /** multer's `dest`: where photos are saved. Default `<os.tmpdir()>/tsgi-from-express`. */
  uploads?: string | undefined;
  /** morgan('combined') to this stream; default none (`tsgi serve` logs each request itself). */
  accessLog?: LogStream | undefined;
  /** Where `errors` logs a 500's stack; default the server's error log (`tsgi.errors`). */
  errorLog?: LogStream | undefined;
}

/** The whole app, its middleware outermost first as `app.use` lists them. */
export function createApp(options: FromExpressOptions = {}): App {
  const secret = options.secret ?? process.env.SESSION_SECRET ?? 'development only: set SESSION_SECRET in production';
  const frontEnds = options.frontEnds ?? ['http://localhost:5173'];
  const sessions = new CookieSessions({ secret });
  const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
  const routes = mount({
    '/api': jsonErrors(apiApp(options.items ?? new Map(), options.uploads ?? path.join(tmpdir(), 'tsgi-from-express'))),
    '/static': directoryApp(publicDir, { maxAge: 3600 }), // express.static('public', { maxAge: '1h' })
    '': siteApp(),
  });
  return compose(
    // app.set('trust proxy', 1): one proxy's X-Forwarded-For, -Proto and -Host. Serve it without
    // tsgi serve's --proxy-headers, which is a second proxyFix reading the same fields again.
    (app) => proxyFix(app, { xFor: 1, xProto: 1, xHost: 1 }),
    ...(options.accessLog ? [(app: AppLike) => accessLog(app, { format: 'combined', log: options.accessLog })] : []), // morgan('combined')
    secureHeaders, // helmet({ contentSecurityPolicy: false })
    (app) => cors(app, { origin: frontEnds, credentials: true, exposeHeaders: ['Location'] }),
    (app) => errors(app, { log: options.errorLog }), // the error handler's console.error(err) and 500
    (app) => crossOriginProtection(app, { trustedOrigins: frontEnds }), // what csurf did, without tokens
    sessions.middleware, // express-session, in a signed cookie
    etag, // the 'etag' setting, on by default: res.send's ETag and its 304 (req.fresh)
    locals,
  )(routes);
}

/** The app with its defaults, for `tsgi serve examples/from-express.ts:app`. */
export const app = createApp();

// app.listen(3000): serve() when run directly, with the morgan-like log on stdout.
if (import.meta.main) {
  const server = await serve(createApp({ accessLog: process.stdout }), { host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8000) });
  console.log(`Serving on ${server.url}`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
