/**
 * A Fastify 5 service ported to tsgi, one piece at a time (docs/fastify.md, "Coming from
 * Fastify"): a notes API under `/api` for a front end on another origin, guarded by an API key,
 * with file attachments, a preferences cookie and static files. The Fastify app it was, abridged:
 *
 * ```js
 * const fastify = Fastify({ logger: true, trustProxy: 'loopback', bodyLimit: 100 * 1024 });
 * await fastify.register(helmet, { contentSecurityPolicy: false });
 * await fastify.register(cors, { origin: ['http://localhost:5173'], exposedHeaders: ['Location'] });
 * await fastify.register(compress);
 * await fastify.register(rateLimit, { max: 100, timeWindow: '1 minute' });
 * await fastify.register(cookie);
 * await fastify.register(formbody);
 * await fastify.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge: '1h' });
 * fastify.setErrorHandler((error, request, reply) => {
 *   const statusCode = error.statusCode ?? 500;
 *   if (statusCode >= 500) request.log.error(error);
 *   reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message: statusCode >= 500 ? 'Something went wrong' : error.message });
 * });
 * fastify.setNotFoundHandler((request, reply) =>
 *   reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `Route ${request.method}:${request.url} not found` }));
 * fastify.get('/health', async () => ({ status: 'ok' }));
 * fastify.get('/preferences', async (request) => ({ theme: request.cookies.theme ?? 'light' }));
 * fastify.post('/preferences', { schema: { body: themeSchema } }, async (request, reply) => {
 *   reply.setCookie('theme', request.body.theme, { path: '/', maxAge: 30 * 86400, httpOnly: true, sameSite: 'lax' });
 *   return reply.code(204).send();
 * });
 * await fastify.register(async (api) => {
 *   await api.register(multipart, { limits: { fileSize: 1 << 20, files: 1 } });
 *   await api.register(etag);
 *   api.addHook('onRequest', async (request, reply) => { if (!apiKeys.includes(request.headers['x-api-key'])) return reply.code(401).send(…); });
 *   api.addHook('onSend', async (request, reply, payload) => { reply.header('x-api-version', '2026-01'); return payload; });
 *   api.get('/notes', { schema: { querystring: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, tag: { type: 'string' } } } }, …);
 *   api.post('/notes', { schema: { body: noteSchema, response: { 201: notePublic } } }, async (request, reply) => {
 *     const note = notes.add(request.body);
 *     request.log.info({ noteId: note.id }, 'note created');
 *     return reply.code(201).header('location', `/api/notes/${note.id}`).send(note);
 *   });
 *   api.get('/notes/:id', { schema: { params: { id: { type: 'integer' } }, response: { 200: notePublic } } }, …);  // 404 { message }
 *   api.delete('/notes/:id', …);                                                                                  // 204
 *   api.post('/notes/:id/attachment', async (request, reply) => { const data = await request.file(); await pipeline(data.file, createWriteStream(p)); … });
 *   api.get('/notes/:id/attachment', (request, reply) => reply.download(saved, note.attachment.filename));
 * }, { prefix: '/api' });
 * await fastify.listen({ port: 3000 });
 * process.once('SIGTERM', () => fastify.close());
 * ```
 *
 * | Route | Does |
 * | --- | --- |
 * | `GET /health` | `{"status":"ok"}`, no key needed |
 * | `GET /preferences` | `{"theme"}` from the `theme` cookie (`@fastify/cookie`'s `request.cookies`) |
 * | `POST /preferences` | a urlencoded `theme` (`@fastify/formbody`), `light` or `dark`: the cookie for 30 days, `204`; `400` for another |
 * | `GET /static/…` | examples/public, an hour in caches (`@fastify/static`) |
 * | `GET /api/notes?limit&tag` | the notes, JSON; `limit` 1 to 100 (20), `400` otherwise, as the querystring schema did |
 * | `POST /api/notes` | `{"title","body","tags"}` (JSON, at most 100 KiB): `201` with `Location`; `400` naming what is wrong (the body schema), `413` too large, `415` another type |
 * | `GET`, `DELETE /api/notes/<int:id>` | one note (`404` when there is none), or `204` |
 * | `POST /api/notes/<int:id>/attachment` | a multipart `file` (at most 1 MiB: `413` past it), saved to disk |
 * | `GET /api/notes/<int:id>/attachment` | the file as a download (ETag, ranges) |
 *
 * Everything under `/api` needs `X-API-Key` (`401` with a challenge otherwise) and answers with
 * `X-API-Version` (the `onSend` hook), the 401 too; its answers in memory carry an `ETag` and
 * answer `304` to it (`@fastify/etag`). Every error, the router's 404 and 405, a limit's 413
 * and the rate limit's 429 included, is Fastify's `{"statusCode","error","message"}`; a 500
 * says only "Something went wrong" and is logged with its stack. A note's answer leaves out
 * where its attachment is stored, as the response schema's serialiser did.
 *
 * ```sh
 * API_KEYS=k1,k2 npx tsgi serve examples/from-fastify.ts:app   # not --proxy-headers: the app has its proxyFix
 * node --conditions=tsgi-source examples/from-fastify.ts       # or serve() itself, with pino-like JSON logs on stdout
 * curl -H 'x-api-key: k1' -H 'content-type: application/json' -d '{"title":"buy milk"}' http://127.0.0.1:8000/api/notes
 * ```
 *
 * @module
 */
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type App,
  HTTPBadRequest,
  HTTPNotFound,
  HTTPUnauthorized,
  HTTPUnsupportedMediaType,
  type LogStream,
  type Request,
  Response,
  compose,
  defineMiddleware,
  serve,
} from 'tsgi';
import {
  accessLog,
  compress,
  cors,
  directoryApp,
  errorPages,
  errors,
  etag,
  fileApp,
  mount,
  proxyFix,
  requestId,
  requestIdKey,
  safeCompare,
  secureHeaders,
} from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { rateLimit } from './rate-limit.ts';

/** A note, as it is stored: `attachment.path` is where its file is, never sent. */
export interface Note {
  id: number;
  title: string;
  body: string;
  tags: string[];
  attachment?: { path: string; filename: string; contentType: string; size: number } | undefined;
}

/** Fastify's `bodyLimit`: 100 KiB for every JSON and form body here (Fastify's default is 1 MiB, as tsgi's). */
const BODY_LIMIT = 100 * 1024;
/** `@fastify/multipart`'s `limits.fileSize`. */
const FILE_LIMIT = 1024 * 1024;
/** What the `onSend` hook stamps on every API answer. */
export const API_VERSION = '2026-01';

/** The API's routes, below `/api`: `'/notes/:id'` with `params: { id: { type: 'integer' } }` is `<int:id>`. */
export const apiRoutes = new RouteMap({
  notes: { path: '/notes', methods: ['GET', 'POST'] },
  note: { path: '/notes/<int:id>', methods: ['GET', 'DELETE'] },
  attachment: { path: '/notes/<int:id>/attachment', methods: ['GET', 'POST'] },
});

/** The routes outside the API. */
export const siteRoutes = new RouteMap({
  health: '/health',
  preferences: { path: '/preferences', methods: ['GET', 'POST'] },
});

/**
 * The `response` schema's serialiser: only the public fields, so a stored field (the file's
 * path on disk) never leaks. tsgi has no serialiser: `Response.json` sends all it is given.
 */
const publicNote = (note: Note) => ({
  id: note.id,
  title: note.title,
  body: note.body,
  tags: note.tags,
  attachment: note.attachment ? { filename: note.attachment.filename, size: note.attachment.size } : null,
});

/**
 * The body schema of `POST /api/notes`, checked by hand: `{ title: string 1..200, body?:
 * string, tags?: string[] }`, nothing else. A `400` whose message is Ajv's, as Fastify's.
 */
function validNote(input: unknown): Pick<Note, 'title' | 'body' | 'tags'> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HTTPBadRequest('body must be object');
  const { title, body = '', tags = [], ...extra } = input as Record<string, unknown>;
  // additionalProperties: false. (Fastify's Ajv removes extra keys silently by default; refusing says why.)
  const unknown = Object.keys(extra)[0];
  if (unknown !== undefined) throw new HTTPBadRequest(`body must NOT have additional properties (${JSON.stringify(unknown)})`);
  if (title === undefined) throw new HTTPBadRequest("body must have required property 'title'");
  if (typeof title !== 'string') throw new HTTPBadRequest('body/title must be string');
  if (title.trim().length < 1) throw new HTTPBadRequest('body/title must NOT have fewer than 1 characters');
  if (title.length > 200) throw new HTTPBadRequest('body/title must NOT have more than 200 characters');
  if (typeof body !== 'string') throw new HTTPBadRequest('body/body must be string');
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) throw new HTTPBadRequest('body/tags must be array of strings');
  return { title: title.trim(), body, tags };
}

/** The querystring schema of `GET /api/notes`: `limit` an integer 1 to 100, 20 by default (no coercion: it is read from the string). */
function validLimit(value: string | undefined): number {
  if (value === undefined) return 20;
  if (!/^\d+$/.test(value)) throw new HTTPBadRequest('querystring/limit must be integer');
  const limit = Number(value);
  if (limit < 1) throw new HTTPBadRequest('querystring/limit must be >= 1');
  if (limit > 100) throw new HTTPBadRequest('querystring/limit must be <= 100');
  return limit;
}

/** `request.log`: one JSON line with the request's id, as pino's child logger wrote it. */
function requestLogger(log: LogStream | undefined) {
  return (req: Request, msg: string, fields: Record<string, unknown> = {}) =>
    log?.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', request_id: requestIdKey.get(req) ?? null, ...fields, msg })}\n`);
}

/**
 * The `onRequest` hook checking `X-API-Key`, and the `onSend` hook stamping `X-API-Version`:
 * `after` runs on the 401 `before` threw too, as `onSend` runs on a reply sent from `onRequest`.
 */
const apiHooks = defineMiddleware<{ apiKeys: readonly string[] }>({
  before(req, { apiKeys }) {
    const key = req.headers.get('x-api-key');
    if (key === null || !apiKeys.some((known) => safeCompare(known, key))) {
      // A 401 carries a challenge (RFC 9110 §15.5.2); lint, so TestClient, refuses one without.
      throw new HTTPUnauthorized(key === null ? 'Send your API key in X-API-Key.' : 'Unknown API key.', { wwwAuthenticate: 'ApiKey realm="notes"' });
    }
  },
  after(_req, res) {
    res.headers.set('X-API-Version', API_VERSION);
  },
});

/** The API's app, without its middleware: `notes` is the store, attachments go under `uploads`. */
function apiApp(notes: Map<number, Note>, uploads: string, log: ReturnType<typeof requestLogger>): App {
  let last = Math.max(0, ...notes.keys());
  const noteOr404 = (id: number) => {
    const note = notes.get(id);
    if (!note) throw new HTTPNotFound(`Note ${id} not found`); // reply.code(404).send(…), through the error handler
    return note;
  };
  return apiRoutes.app({
    notes: async (req, _args, urls) => {
      if (req.method !== 'POST') {
        const limit = validLimit(req.query.get('limit'));
        const tag = req.query.get('tag');
        const list = [...notes.values()].filter((note) => tag === undefined || note.tags.includes(tag));
        return Response.json(list.slice(0, limit).map(publicNote)); // return notes: Fastify's JSON reply
      }
      // Fastify answers 415 for a type it has no parser for; req.json() parses any, so check.
      if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType(`Unsupported Media Type: ${req.contentType ?? 'none'}`);
      const note: Note = { id: ++last, ...validNote(await req.json({ maxBodySize: BODY_LIMIT })) }; // 400 malformed, 413 past bodyLimit
      notes.set(note.id, note);
      log(req, 'note created', { noteId: note.id }); // request.log.info({ noteId }, 'note created')
      const res = Response.json(publicNote(note), { status: 201 }); // reply.code(201).send(note)
      res.location = urls.build('note', { id: note.id }, { external: true }); // .header('location', …), /api/notes/1 under the mount
      return res;
    },
    note: async (req, { id }) => {
      const note = noteOr404(id);
      if (req.method !== 'DELETE') return Response.json(publicNote(note));
      notes.delete(id);
      if (note.attachment) await rm(note.attachment.path, { force: true });
      return new Response(null, { status: 204 }); // reply.code(204).send()
    },
    attachment: async (req, { id }) => {
      const note = noteOr404(id);
      if (req.method === 'POST') {
        // request.file() with limits { fileSize, files: 1 }: the limits hold while it streams (413).
        const files = await req.files({ maxFileSize: FILE_LIMIT, maxFiles: 1, maxBodySize: FILE_LIMIT + BODY_LIMIT });
        const file = files.get('file');
        if (!file) throw new HTTPBadRequest('Send the file as the multipart field "file".');
        await mkdir(uploads, { recursive: true });
        const saved = path.join(uploads, `note-${id}`); // never file.filename: the client chose it
        await file.saveTo(saved);
        note.attachment = { path: saved, filename: file.safeFilename || `note-${id}`, contentType: file.contentType, size: file.size };
        return Response.json(publicNote(note), { status: 201 });
      }
      if (!note.attachment) throw new HTTPNotFound(`Note ${id} has no attachment`);
      // reply.download(path, filename): GET, HEAD, ETag, 304 and ranges.
      return fileApp(note.attachment.path, { contentType: note.attachment.contentType, download: note.attachment.filename });
    },
  });
}

/** The app outside `/api`: health and the preferences cookie. */
function siteApp(): App {
  return siteRoutes.app({
    health: () => Response.json({ status: 'ok' }), // async () => ({ status: 'ok' }): an object is no answer here
    preferences: async (req) => {
      if (req.method !== 'POST') return Response.json({ theme: req.cookies.theme === 'dark' ? 'dark' : 'light' }); // request.cookies.theme
      const theme = (await req.form({ maxBodySize: BODY_LIMIT })).get('theme'); // @fastify/formbody: request.body.theme
      if (theme !== 'light' && theme !== 'dark') throw new HTTPBadRequest('body/theme must be equal to one of the allowed values');
      // reply.setCookie(…): maxAge in seconds in both; the path is '/' unless told.
      return new Response(null, { status: 204 }).setCookie('theme', theme, { maxAge: 30 * 24 * 3600, httpOnly: true, sameSite: 'lax' });
    },
  });
}

/**
 * `setErrorHandler` and `setNotFoundHandler` in one renderer: every 4xx and 5xx page, the
 * router's 404 and 405 and the middleware's (401, 413, 429) included, as Fastify's JSON error.
 */
const fastifyErrors = (app: App) =>
  errorPages(app, {
    render: (error, req) =>
      Response.json({
        statusCode: error.code,
        error: error.title,
        message: error.code >= 500
          ? 'Something went wrong' // the stack is in the error log (errors), never in the answer
          : error.detail ?? (error.code === 404 ? `Route ${req.method}:${req.pathQs} not found` : error.description),
      }),
  });

/** Options of {@link createApp}. */
export interface FromFastifyOptions {
  /** The API keys `X-API-Key` may carry. Default `$API_KEYS` split on commas, else `['development-key']`. */
  apiKeys?: readonly string[] | undefined;
  /** `@fastify/cors`'s `origin`: the front ends calling the API. Default `['http://localhost:5173']`. */
  frontEnds?: readonly string[] | undefined;
  /** The store; default a new, empty one. */
  notes?: Map<number, Note> | undefined;
  /** Where attachments are saved. Default `<os.tmpdir()>/tsgi-from-fastify`. */
  uploads?: string | undefined;
  /** `@fastify/rate-limit`: requests a client may make at once, then `refillPerSecond`. Default 100, then 100 a minute. */
  rateLimit?: { capacity: number; refillPerSecond: number } | undefined;
  /**
   * `logger: true`: a JSON line per request (`accessLog`) and `request.log`'s lines, with the
   * request's id. Default none (`tsgi serve` logs each request itself).
   */
  log?: LogStream | undefined;
  /** Where a 500's stack is logged (the error handler's `request.log.error(error)`). Default the server's error log. */
  errorLog?: LogStream | undefined;
  /**
   * `trustProxy`: the proxy's addresses (an address, a CIDR range, `'loopback'`…, as
   * `proxyFix`'s `trust`), the only peers whose `X-Forwarded-*` fields are read. Default
   * `'loopback'`, a proxy on the same host; a client reaching the app from elsewhere keeps its
   * own address, whatever `X-Forwarded-For` it sends.
   */
  proxies?: string | readonly string[] | undefined;
}

/** The whole service, its layers outermost first. */
export function createApp(options: FromFastifyOptions = {}): App {
  const apiKeys = options.apiKeys ?? (process.env.API_KEYS ? process.env.API_KEYS.split(',') : ['development-key']);
  const frontEnds = options.frontEnds ?? ['http://localhost:5173'];
  const limits = options.rateLimit ?? { capacity: 100, refillPerSecond: 100 / 60 };
  const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
  const log = requestLogger(options.log);
  const api = compose(
    (app) => apiHooks(app, { apiKeys }), // onRequest and onSend, for this prefix only
    etag, // @fastify/etag, registered inside the API's plugin
  )(apiApp(options.notes ?? new Map(), options.uploads ?? path.join(tmpdir(), 'tsgi-from-fastify'), log));
  // fastify.register(plugin, { prefix: '/api' }): a mount, where the prefix stays in URLs built inside.
  const routes = mount({
    '/api': api,
    '/static': directoryApp(publicDir, { maxAge: 3600 }), // @fastify/static, prefix '/static/', maxAge '1h'
    '': siteApp(),
  });
  return compose(
    // trustProxy: 'loopback', one proxy. Serve it without tsgi serve's --proxy-headers (a second proxyFix).
    (app) => proxyFix(app, { xFor: 1, xProto: 1, xHost: 1, trust: options.proxies ?? 'loopback' }),
    requestId, // request.id, sent back as X-Request-Id and in every log line
    ...(options.log ? [(app: App) => accessLog(app, { format: 'json', log: options.log })] : []), // logger: true
    secureHeaders, // @fastify/helmet({ contentSecurityPolicy: false })
    (app) => cors(app, { origin: frontEnds, exposeHeaders: ['Location'] }), // @fastify/cors
    compress, // @fastify/compress: 1 KiB and more
    fastifyErrors, // setErrorHandler, setNotFoundHandler
    (app) => errors(app, { log: options.errorLog }), // the 500 and its logged stack
    (app) => rateLimit(app, limits), // @fastify/rate-limit: examples/rate-limit.ts, per req.remoteAddr (trustProxy's request.ip)
  )(routes);
}

/** The app with its defaults, for `tsgi serve examples/from-fastify.ts:app`. */
export const app = createApp();

// fastify.listen({ port: 3000 }) and fastify.close() on SIGTERM: serve() when run directly.
if (import.meta.main) {
  const server = await serve(createApp({ log: process.stdout }), { host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8000) });
  console.log(`Serving on ${server.url}`);
  // Requests in flight finish, then the process ends (fastify.close()).
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
