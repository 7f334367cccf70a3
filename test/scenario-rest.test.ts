/**
 * Scenario: an API designer builds a resource API "by the RFCs" from docs/conditional.md,
 * caching.md, negotiation.md, exceptions.md, routing.md and the decodeBody and compress pages:
 * strong ETags on items and `If-Match` on writes (412, and 428 without it, RFC 6585),
 * `If-None-Match: *` for create-only PUT, JSON merge patch (RFC 7396) with 415 + `Accept-Patch`,
 * 201 with `Location`/`Content-Location`, 204, `Link` paging with weak ETags on the collection,
 * JSON vs CSV with `Vary`, 406, `Retry-After` on 429/503, an idempotency key replaying the
 * stored answer, problem details (RFC 9457) for tsgi's own 400/405/413/415, `Allow`, HEAD,
 * gzip request bodies, compressed answers (the ETag weakened, RFC 9110 §8.8.3), conditional GET
 * precedence and Range on a JSON export. Each answer is checked over a real socket against what
 * the RFCs require.
 */
import { gzipSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  HTTPBadRequest,
  HTTPNotAcceptable,
  HTTPNotFound,
  HTTPPreconditionFailed,
  HTTPPreconditionRequired,
  HTTPServiceUnavailable,
  HTTPTooManyRequests,
  HTTPUnsupportedMediaType,
  type Request,
  Response,
  compose,
  serve,
} from 'tsgi';
import { compress, decodeBody, errorPages, errors } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { request } from './node-helpers.js';

interface Item { id: number; name: string; qty: number; version: number; updated: number }

const routes = new RouteMap({
  items: { path: '/items', methods: ['GET', 'POST'] },
  exportAll: '/items/export',
  busy: '/busy',
  limited: '/limited',
  item: { path: '/items/<int:id>', methods: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
});
const ERROR_TYPES = ['text/plain', 'text/html', 'application/json', 'application/problem+json'];
const MERGE_PATCH = 'application/merge-patch+json';

function build() {
  const store = new Map<number, Item>();
  const replies = new Map<string, Response>();
  let last = 0;
  const tag = (item: Item) => `${item.id}.${item.version}`;
  const represent = (req: Request, item: Item, status = 200) => {
    const res = Response.json(item, { status, conditionalResponse: true });
    res.etag = tag(item);
    res.lastModified = item.updated;
    res.cacheControl.noCache = true;
    res.contentLocation = `${req.scriptName}/items/${item.id}`;
    return res;
  };
  const read = async (req: Request) => {
    if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
    return (await req.json({ maxBodySize: 16 * 1024 })) as Partial<Item>;
  };
  const api = routes.app({
    busy: () => { throw new HTTPServiceUnavailable('Down for maintenance.', { retryAfter: 120 }); },
    limited: () => { throw new HTTPTooManyRequests('Slow down.', { retryAfter: 30 }); },
    items: async (req, _values, urls) => {
      if (req.method === 'POST') {
        const key = req.headers.get('Idempotency-Key');
        const stored = key === null ? undefined : replies.get(key);
        if (stored !== undefined) return stored;
        const body = await read(req);
        const item: Item = { id: ++last, name: String(body.name), qty: Number(body.qty ?? 0), version: 1, updated: Date.now() - 5000 };
        store.set(item.id, item);
        const res = represent(req, item, 201);
        res.location = urls.build('item', { id: item.id });
        if (key !== null) replies.set(key, res);
        return res;
      }
      const type = req.accept.bestMatch(['application/json', 'text/csv']);
      if (type === null) throw new HTTPNotAcceptable('Accept application/json or text/csv.');
      const page = Number(req.query.get('page') ?? 1);
      if (!Number.isSafeInteger(page) || page < 1) throw new HTTPBadRequest('page is 1 or more.');
      const items = [...store.values()].slice((page - 1) * 2, page * 2);
      const res = type === 'text/csv'
        ? new Response(items.map((i) => `${i.id},${i.name},${i.qty}\n`).join(''), { contentType: 'text/csv', conditionalResponse: true })
        : Response.json(items, { conditionalResponse: true });
      res.headers.set('Link', `<${urls.build('items', { page: page + 1 })}>; rel="next"`);
      res.addVary('Accept');
      res.cacheControl.maxAge = 10;
      res.etag = { tag: res.addEtag().etag!.tag, weak: true };
      return res;
    },
    exportAll: () => Response.json([...store.values()], { conditionalResponse: true }).addEtag(),
    item: async (req, { id }, urls) => {
      if (req.method === 'OPTIONS') {
        const res = new Response(null, { status: 204 });
        res.allow = urls.allowedMethods();
        res.headers.set('Accept-Patch', MERGE_PATCH);
        return res;
      }
      const item = store.get(id as number);
      if (req.method === 'PUT' && item === undefined && req.ifNoneMatch.any) {
        const created: Item = { id: id as number, name: String((await read(req)).name), qty: 0, version: 1, updated: Date.now() };
        store.set(created.id, created);
        const res = represent(req, created, 201);
        res.location = req.url;
        return res;
      }
      if (item === undefined) throw new HTTPNotFound(`There is no item ${id}.`);
      if (req.method === 'GET' || req.method === 'HEAD') return represent(req, item);
      if (req.ifNoneMatch.any) throw new HTTPPreconditionFailed('The item exists.');
      if (!req.ifMatch.present) throw new HTTPPreconditionRequired('Send If-Match with the ETag you read.');
      // Weakly: compress weakens the tag a gzip client saw (docs/conditional.md).
      if (!req.ifMatch.contains(tag(item), { weak: true })) throw new HTTPPreconditionFailed('The item changed since you read it.');
      if (req.method === 'DELETE') {
        store.delete(item.id);
        return new Response(null, { status: 204 });
      }
      if (req.method === 'PATCH') {
        if (req.contentType !== MERGE_PATCH) throw new HTTPUnsupportedMediaType(`Send ${MERGE_PATCH}.`, { headers: { 'Accept-Patch': MERGE_PATCH } });
        const patch = (await req.json()) as Record<string, unknown>;
        if (typeof patch.qty === 'number') item.qty = patch.qty;
        if (typeof patch.name === 'string') item.name = patch.name;
      } else {
        item.name = String((await read(req)).name);
      }
      item.version++;
      item.updated = Date.now();
      return represent(req, item);
    },
  });
  return compose(
    (app) => errorPages(app, {
      render(error, req) {
        if (!req.accept.bestMatch(ERROR_TYPES)?.endsWith('json')) return undefined;
        const problem = { type: 'about:blank', status: error.code, title: error.title, detail: error.detail };
        return new Response(JSON.stringify(problem), { contentType: 'application/problem+json' });
      },
    }),
    errors,
    compress,
    decodeBody,
  )(api);
}

describe('a REST API by the RFCs', () => {
  it('answers each request as RFC 9110/9111/6585/5789/7396/8288/9457 require', async () => {
    const server = await serve(build(), { host: '127.0.0.1', port: 0 });
    try {
      const base = server.url.replace(/\/$/, '');
      const go = (path: string, method = 'GET', headers: Record<string, string> = {}, body?: string | Uint8Array) =>
        request(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
      const JSON_IN = { 'content-type': 'application/json', accept: 'application/json' };
      const problem = (res: { headers: Record<string, unknown>; body: Buffer }, status: number) => {
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(JSON.parse(res.body.toString())).toMatchObject({ type: 'about:blank', status });
      };
      const big = 'x'.repeat(3000);

      // Creation: 201, Location, Content-Location, a strong ETag; the key replays the answer.
      const created = await go('/items', 'POST', { ...JSON_IN, 'idempotency-key': 'k1' }, JSON.stringify({ name: big, qty: 1 }));
      expect(created.status).toBe(201);
      expect(created.headers).toMatchObject({ location: '/items/1', 'content-location': '/items/1', etag: '"1.1"' });
      const replay = await go('/items', 'POST', { ...JSON_IN, 'idempotency-key': 'k1' }, JSON.stringify({ name: 'other' }));
      expect([replay.status, replay.headers.etag, replay.body.equals(created.body)]).toEqual([201, '"1.1"', true]);
      // A gzip body from a mobile client, decoded by decodeBody.
      const zipped = await go('/items', 'POST', { ...JSON_IN, 'content-encoding': 'gzip' }, gzipSync('{"name":"b"}'));
      expect([zipped.status, JSON.parse(zipped.body.toString()).name]).toEqual([201, 'b']);
      await go('/items', 'POST', JSON_IN, '{"name":"c"}');

      // tsgi's own errors, as problem details.
      const badCoding = await go('/items', 'POST', { ...JSON_IN, 'content-encoding': 'foo' }, 'x');
      expect([badCoding.status, badCoding.headers['accept-encoding']]).toEqual([415, 'gzip, deflate, br, zstd']);
      problem(badCoding, 415);
      problem(await go('/items', 'POST', JSON_IN, '{'), 400);
      problem(await go('/items', 'POST', JSON_IN, JSON.stringify('x'.repeat(20_000))), 413);
      problem(await go('/items', 'POST', { ...JSON_IN, 'content-type': 'text/plain' }, 'x'), 415);
      const notAllowed = await go('/items', 'DELETE', { accept: 'application/problem+json' });
      expect([notAllowed.status, notAllowed.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS, POST']);
      problem(notAllowed, 405);
      problem(await go('/nope', 'GET', { accept: 'application/json' }), 404);
      const options = await go('/items/1', 'OPTIONS');
      expect([options.status, options.headers.allow, options.headers['accept-patch']]).toEqual([204, 'DELETE, GET, HEAD, OPTIONS, PATCH, PUT', MERGE_PATCH]);

      // GET: identity keeps the strong tag and Accept-Ranges; gzip weakens the tag, drops Accept-Ranges.
      const plain = await go('/items/1');
      expect(plain.headers).toMatchObject({ etag: '"1.1"', 'accept-ranges': 'bytes', vary: 'Accept-Encoding', 'content-length': '3062' });
      const gzipped = await go('/items/1', 'GET', { 'accept-encoding': 'gzip' });
      expect(gzipped.headers).toMatchObject({ etag: 'W/"1.1"', 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
      expect(gzipped.headers['accept-ranges']).toBeUndefined();
      expect(gunzipSync(gzipped.body).equals(plain.body)).toBe(true);
      // HEAD: the fields GET gets (Content-Length may go: RFC 9110 §8.6), no body.
      const head = await go('/items/1', 'HEAD', { 'accept-encoding': 'gzip' });
      expect([head.status, head.body.length, head.headers.etag, head.headers['content-encoding']]).toEqual([200, 0, 'W/"1.1"', 'gzip']);

      // Conditional GET: If-None-Match (weak comparison) wins over If-Modified-Since (RFC 9110 §13.1.3).
      const later = new Date(Date.now() + 2000).toUTCString();
      const revalidated = await go('/items/1', 'GET', { 'if-none-match': 'W/"1.1"', 'accept-encoding': 'gzip' });
      expect([revalidated.status, revalidated.body.length, revalidated.headers.etag, revalidated.headers['content-location']]).toEqual([304, 0, 'W/"1.1"', '/items/1']);
      expect((await go('/items/1', 'GET', { 'if-none-match': '"old"', 'if-modified-since': later })).status).toBe(200);
      expect((await go('/items/1', 'GET', { 'if-modified-since': later })).status).toBe(304);
      expect((await go('/items/1', 'GET', { 'if-match': 'W/"1.1"', accept: 'application/json' })).status).toBe(412); // strong comparison

      // Writes: 428 without If-Match, 412 for a stale one, the gzip client's weak tag accepted.
      problem(await go('/items/1', 'PUT', JSON_IN, '{"name":"z"}'), 428);
      problem(await go('/items/1', 'PUT', { ...JSON_IN, 'if-match': '"1.0"' }, '{"name":"z"}'), 412);
      const put = await go('/items/1', 'PUT', { ...JSON_IN, 'if-match': gzipped.headers.etag as string, range: 'bytes=0-3' }, '{"name":"z"}');
      expect([put.status, put.headers.etag, JSON.parse(put.body.toString()).name]).toEqual([200, '"1.2"', 'z']); // Range is for GET only
      const createOnly = await go('/items/9', 'PUT', { ...JSON_IN, 'if-none-match': '*' }, '{"name":"n"}');
      expect([createOnly.status, createOnly.headers.location]).toEqual([201, `${base}/items/9`]);
      problem(await go('/items/9', 'PUT', { ...JSON_IN, 'if-none-match': '*' }, '{"name":"n"}'), 412);

      // PATCH: merge patch only (RFC 5789 §2.2: 415 with Accept-Patch).
      const wrongPatch = await go('/items/1', 'PATCH', { ...JSON_IN, 'if-match': '"1.2"' }, '{"qty":5}');
      expect([wrongPatch.status, wrongPatch.headers['accept-patch']]).toEqual([415, MERGE_PATCH]);
      const patched = await go('/items/1', 'PATCH', { ...JSON_IN, 'content-type': MERGE_PATCH, 'content-encoding': 'gzip', 'if-match': '"1.2"' }, gzipSync('{"qty":5}'));
      expect([patched.status, patched.headers.etag, JSON.parse(patched.body.toString()).qty]).toEqual([200, '"1.3"', 5]);

      // The collection: Link paging, weak ETags, Vary on Accept, CSV, 406, 400.
      const list = await go('/items', 'GET', { accept: 'application/json', 'accept-encoding': 'gzip' });
      expect(list.headers).toMatchObject({ link: '</items?page=2>; rel="next"', vary: 'Accept, Accept-Encoding', 'cache-control': 'max-age=10' });
      expect(list.headers.etag).toMatch(/^W\/"/);
      expect((await go('/items', 'GET', { accept: 'application/json', 'accept-encoding': 'gzip', 'if-none-match': list.headers.etag as string })).status).toBe(304);
      const csv = await go('/items?page=2', 'GET', { accept: 'text/csv' });
      expect([csv.status, csv.headers['content-type'], csv.body.toString()]).toEqual([200, 'text/csv; charset=utf-8', '3,c,0\n9,n,0\n']);
      expect(csv.headers.etag).not.toBe(list.headers.etag);
      const refused = await go('/items', 'GET', { accept: 'image/png, application/problem+json' });
      expect([refused.status, refused.headers.vary]).toEqual([406, 'Accept, Accept-Encoding']);
      problem(refused, 406);
      problem(await go('/items?page=x', 'GET', { accept: 'application/json' }), 400);

      // Retry-After on 429 and 503, kept under the problem body.
      const limited = await go('/limited', 'GET', { accept: 'application/json' });
      expect([limited.status, limited.headers['retry-after']]).toEqual([429, '30']);
      problem(limited, 429);
      const busy = await go('/busy', 'GET', { accept: 'application/json' });
      expect([busy.status, busy.headers['retry-after']]).toEqual([503, '120']);

      // Range on the JSON export: identity bytes, also for a gzip client; a weak If-Range gets the whole.
      const part = await go('/items/export', 'GET', { range: 'bytes=0-9', 'accept-encoding': 'gzip' });
      expect([part.status, part.body.toString(), part.headers.vary]).toEqual([206, '[{"id":1,"', 'Accept-Encoding']);
      expect(part.headers['content-range']).toMatch(/^bytes 0-9\/\d+$/);
      const unsatisfiable = await go('/items/export', 'GET', { range: 'bytes=99999-', accept: 'application/json' });
      expect([unsatisfiable.status, unsatisfiable.headers['content-range']]).toEqual([416, `bytes */${part.headers['content-range']!.split('/')[1]}`]);
      expect((await go('/items', 'GET', { range: 'bytes=0-9', 'if-range': list.headers.etag as string })).status).toBe(200);

      // DELETE: 204 without a body or Content-Type; then 404.
      const deleted = await go('/items/2', 'DELETE', { 'if-match': '"2.1"' });
      expect([deleted.status, deleted.body.length, deleted.headers['content-type']]).toEqual([204, 0, undefined]);
      problem(await go('/items/2', 'DELETE', { 'if-match': '"2.1"', accept: 'application/json' }), 404);
    } finally {
      await server.close();
    }
  }, 10_000);
});
