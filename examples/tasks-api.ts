/**
 * Tasks: a JSON API, as a FastAPI or Hono user would build it. Errors are problem details
 * (RFC 9457), writes are guarded by `If-Match`, lists are paged with `Link`, and the export
 * streams NDJSON with backpressure.
 *
 * | Route                  | Does                                                                |
 * | ---------------------- | ------------------------------------------------------------------- |
 * | `GET /healthz`         | `{"status":"ok"}`, without a token                                  |
 * | `GET /tasks`           | a page (`?page=2&per_page=10`), `Link` and `X-Total-Count`, `ETag`  |
 * | `POST /tasks`          | creates one: 201 with `Location` and `ETag`; 422 names bad members   |
 * | `GET /tasks/<int:id>`  | one task, `ETag` (304 for `If-None-Match`)                          |
 * | `PUT /tasks/<int:id>`  | replaces it: 428 without `If-Match`, 412 for a stale one            |
 * | `DELETE /tasks/<int:id>` | 204                                                               |
 * | `GET /tasks/export`    | every task, one JSON object a line, streamed                         |
 *
 * ```sh
 * TASKS_TOKEN=secret npx tsgi serve examples/tasks-api.ts:app --no-access-log   # the app logs JSON lines itself
 * curl -H 'Authorization: Bearer secret' -H 'Content-Type: application/json' -d '{"title":"a"}' http://127.0.0.1:8000/tasks
 * ```
 *
 * @module
 */
import compressible from 'compressible';
import {
  HTTPBadRequest,
  HTTPNotAcceptable,
  HTTPNotFound,
  HTTPPreconditionFailed,
  HTTPPreconditionRequired,
  HTTPUnprocessableContent,
  HTTPUnsupportedMediaType,
  Request,
  Response,
  compose,
} from 'tsgi';
import { type AccessLogOptions, accessLog, bearerAuth, compress, cors, errorPages, errors, mount, requestId, requestIdKey } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

export interface Task { id: number; title: string; done: boolean; version: number }

export const routes = new RouteMap({
  tasks: { path: '/tasks', methods: ['GET', 'POST'] },
  task: { path: '/tasks/<int:id>', methods: ['GET', 'PUT', 'DELETE'] },
  exportAll: '/tasks/export',
});

/** A problem details body (RFC 9457) of an exception of your own, with members of your own. */
const problem = (status: number, title: string, detail: string, extra: object = {}) => ({
  body: JSON.stringify({ type: 'about:blank', status, title, detail, ...extra }),
  contentType: 'application/problem+json',
});

/** The task members of a body, or a 422 naming each bad one (JSON Pointers, RFC 6901). */
function validTask(value: unknown): Pick<Task, 'title' | 'done'> {
  const body = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  const errors: { pointer: string; detail: string }[] = [];
  if (typeof body?.title !== 'string' || body.title === '') errors.push({ pointer: '/title', detail: 'must be a non-empty string' });
  if (body?.done !== undefined && typeof body.done !== 'boolean') errors.push({ pointer: '/done', detail: 'must be a boolean' });
  if (errors.length > 0) throw new HTTPUnprocessableContent(undefined, problem(422, 'Unprocessable Content', 'The task is invalid.', { errors }));
  return { title: body!.title as string, done: (body!.done as boolean | undefined) ?? false };
}

/** A 406, before any work, for a client that takes none of `type` (RFC 9110 §12.5.1). */
function negotiate(req: Request, type: string): void {
  if (req.accept.bestMatch([type]) === null) throw new HTTPNotAcceptable(`This resource is ${type}.`);
}

async function readTask(req: Request) {
  if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
  return validTask(await req.json({ maxBodySize: 16 * 1024 }));
}

function answered(task: Task, status = 200): Response {
  const res = Response.json(task, { status, conditionalResponse: true }); // 304 on GET
  res.etag = `${task.id}.${task.version}`;
  return res;
}

/** The API without its middleware: `tasks` is its store. */
export function tasksApp(tasks = new Map<number, Task>()) {
  let last = 0;
  for (const id of tasks.keys()) last = Math.max(last, id);
  const api = routes.app({
    tasks: async (req, _values, urls) => {
      negotiate(req, 'application/json');
      if (req.method === 'POST') {
        const members = await readTask(req);
        const task = { id: ++last, ...members, version: 1 };
        tasks.set(task.id, task);
        const res = answered(task, 201);
        res.location = urls.build('task', { id: task.id }, { external: true });
        return res;
      }
      const page = Number(req.query.get('page') ?? 1);
      const perPage = Number(req.query.get('per_page') ?? 10);
      if (!Number.isSafeInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
        throw new HTTPBadRequest(undefined, problem(400, 'Bad Request', 'page is 1 or more, per_page 1 to 100.'));
      }
      const all = [...tasks.values()];
      const pages = Math.max(1, Math.ceil(all.length / perPage));
      const link = (to: number, rel: string) => `<${urls.build('tasks', { page: to, per_page: perPage }, { external: true })}>; rel="${rel}"`;
      const links = [link(1, 'first'), link(pages, 'last')];
      if (page > 1) links.push(link(Math.min(page - 1, pages), 'prev'));
      if (page < pages) links.push(link(page + 1, 'next'));
      const res = Response.json(all.slice((page - 1) * perPage, page * perPage), { conditionalResponse: true, headers: { Link: links.join(', '), 'X-Total-Count': String(all.length) } });
      return res.addEtag();
    },
    task: async (req, { id }) => {
      negotiate(req, 'application/json');
      const task = tasks.get(id);
      if (!task) throw new HTTPNotFound(`There is no task ${id}.`);
      if (req.method === 'DELETE') {
        tasks.delete(id);
        return new Response(null, { status: 204 });
      }
      if (req.method === 'PUT') {
        // Before the write (docs/conditional.md); weakly, as compress weakens the tag a gzip client saw.
        if (!req.ifMatch.present) throw new HTTPPreconditionRequired('Send If-Match with the ETag you read.');
        if (!req.ifMatch.contains(`${task.id}.${task.version}`, { weak: true })) throw new HTTPPreconditionFailed('The task changed since you read it.');
        Object.assign(task, await readTask(req), { version: task.version + 1 });
      }
      return answered(task);
    },
    exportAll: (req) => {
      negotiate(req, 'application/x-ndjson');
      const encoder = new TextEncoder();
      // Pulled a chunk of 100 lines at a time, as the client takes them: a slow client slows the loop.
      const lines = (async function* () {
        let chunk = '';
        let count = 0;
        for (const task of tasks.values()) {
          chunk += `${JSON.stringify(task)}\n`;
          if (++count % 100 === 0) {
            yield encoder.encode(chunk);
            chunk = '';
          }
        }
        if (chunk !== '') yield encoder.encode(chunk);
      })();
      return new Response(lines, { contentType: 'application/x-ndjson' });
    },
  });
  return api;
}

const JSON_TYPES = ['text/plain', 'text/html', 'application/json', 'application/problem+json'];

/**
 * The API served: ids, a JSON access log, CORS for one front end with credentials, problem
 * details for every generated error (the router's 404 and 405, a 401, `req.json()`'s 400, the
 * 500 of `errors`), gzip/br, `/healthz` without a token.
 */
export function createTasksApi(options: { tokens: Record<string, string>; tasks?: Map<number, Task>; log?: AccessLogOptions['log'] }) {
  const health = () => Response.json({ status: 'ok' });
  const api = bearerAuth(tasksApp(options.tasks), { realm: 'tasks', verify: (token) => (Object.hasOwn(options.tokens, token) ? options.tokens[token] : null) });
  return compose(
    requestId,
    (app) => accessLog(app, { format: 'json', log: options.log }),
    (app) => cors(app, { origin: ['http://localhost:5173'], credentials: true, exposeHeaders: ['ETag', 'Link', 'Location', 'X-Request-Id', 'X-Total-Count'], maxAge: 600 }),
    (app) => errorPages(app, {
      render(error, req) {
        if (!req.accept.bestMatch(JSON_TYPES)?.endsWith('json')) return undefined; // curl and browsers: the default page
        const { body, contentType } = problem(error.code, error.title, error.detail ?? error.description, { request_id: requestIdKey.get(req) });
        return new Response(body, { contentType });
      },
    }),
    errors,
    (app) => compress(app, { filter: (type) => type.startsWith('application/x-ndjson') || compressible(type) === true }),
  )(mount({ '/healthz': Request.application(health), '': api }));
}

export const app = createTasksApi({ tokens: { [process.env.TASKS_TOKEN ?? 'dev-token']: 'dev' } });
