/**
 * Scenario: a reporting service's streaming exports moved from Express (`res.write` loops,
 * `compression`, `res.on('close')`) and Hono (`stream()` from `hono/streaming`) to tsgi, built
 * from the docs (docs/response.md "Streaming an export", docs/middleware-compress.md,
 * docs/server.md): `GET /export.csv` and `GET /export.ndjson` stream rows from an async
 * generator standing in for a database cursor (it counts rows produced and cursors opened and
 * closed, its `finally` being the cursor's close), `GET /export` negotiates between the two on
 * `Accept`, `?limit=`/`?since=` are checked (a 400 with a reason), the file is an attachment
 * with a non-ASCII name, and HEAD never opens the cursor. The stack is `accessLog` (JSON),
 * `errors` and `compress` (gzip, br; NDJSON named in its filter).
 *
 * Driven over real sockets on 127.0.0.1 (200,000 rows, curl and 20 clients, were driven by hand; the
 * test keeps the sizes small): a 50,000-row download, gzip and br decoding to the
 * exact bytes, a client that stops reading (the cursor is read no further ahead than what the
 * socket took), a client that hangs up after 1 MB (the cursor closed at once, the access line
 * with its bytes and `outcome: close`), a failure at row 50,000 (HTTP/1.1: the chunked body is
 * never terminated; HTTP/2: the stream is reset; logged once each), 20 concurrent exports, and
 * `server.close()` during 5 long exports (cut at its timeout, every cursor closed by the time
 * it resolves, each client seeing a truncated body).
 */
import http2 from 'node:http2';
import net from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPBadRequest, HTTPNotAcceptable, HTTPNotFound, HTTPMethodNotAllowed, Request, Response, type ServerHandle, compose, serve } from 'tsgi';
import { accessLog, compress, errors } from 'tsgi/middleware';
import { errorLog, parseRaw, rawExchange, rawGet, request, until } from './node-helpers.ts';

interface Row {
  id: number;
  name: string;
  amount: string;
}

const encoder = new TextEncoder();
const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const FORMATS = {
  csv: { type: 'text/csv; charset=utf-8', header: 'id,name,amount\r\n', line: (row: Row) => `${row.id},${csvField(row.name)},${row.amount}\r\n` },
  ndjson: { type: 'application/x-ndjson', header: '', line: (row: Row) => `${JSON.stringify(row)}\n` },
} as const;

/** The export service, its cursor's counters, its access lines and its error log. */
function exportService(options: { failAt?: number } = {}) {
  const stats = { produced: 0, producedBytes: 0, opened: 0, closed: 0 };
  // The database cursor: a batch of 500 rows per round trip (a timer); `finally` closes it.
  async function* cursor(limit: number, since: number, signal: AbortSignal): AsyncGenerator<Row> {
    stats.opened++;
    try {
      for (let id = since; id < since + limit; id++) {
        if ((id - since) % 500 === 0) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          signal.throwIfAborted();
        }
        if (id - since === options.failAt) throw new Error(`database connection lost at row ${id}`);
        stats.produced++;
        yield { id, name: id % 13 === 0 ? `Müller, "GmbH" ${id}` : `customer ${id}`, amount: (id * 1.25).toFixed(2) };
      }
    } finally {
      stats.closed++;
    }
  }
  async function* download(format: keyof typeof FORMATS, rows: AsyncIterable<Row>): AsyncGenerator<Uint8Array> {
    const { header, line } = FORMATS[format];
    let first = true;
    for await (const row of rows) {
      const chunk = encoder.encode(first ? header + line(row) : line(row));
      stats.producedBytes += chunk.length;
      yield chunk;
      first = false;
    }
    if (first) yield encoder.encode(header);
  }
  function count(req: Request, name: string, fallback: number, max: number): number {
    const values = req.query.getAll(name);
    if (values.length > 1) throw new HTTPBadRequest(`${name} was given ${values.length} times.`);
    const value = values[0];
    if (value === undefined) return fallback;
    if (!/^\d{1,10}$/.test(value) || Number(value) > max) throw new HTTPBadRequest(`${name} must be a whole number from 0 to ${max}.`);
    return Number(value);
  }
  const site = Request.application((req) => {
    let format: keyof typeof FORMATS;
    if (req.pathInfo === '/export.csv') format = 'csv';
    else if (req.pathInfo === '/export.ndjson') format = 'ndjson';
    else if (req.pathInfo === '/export') {
      const type = req.accept.bestMatch(['text/csv', 'application/x-ndjson']);
      if (type === null) throw new HTTPNotAcceptable('This export is text/csv or application/x-ndjson.');
      format = type === 'text/csv' ? 'csv' : 'ndjson';
    } else throw new HTTPNotFound();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
    const limit = count(req, 'limit', 200_000, 1_000_000);
    const since = count(req, 'since', 0, 1_000_000_000);
    // Opened by the download's `for await`: a HEAD, whose body is closed unread, never opens it.
    const rows = { [Symbol.asyncIterator]: () => cursor(limit, since, req.signal) };
    const res = new Response(download(format, rows), { contentType: FORMATS[format].type });
    res.attachment(`Übersicht März.${format}`);
    if (req.pathInfo === '/export') res.addVary('Accept');
    return res;
  });
  const access: Record<string, unknown>[] = [];
  const failures = errorLog();
  const app = compose(
    (inner) => accessLog(inner, { format: 'json', log: { write: (line) => void access.push(JSON.parse(line)) } }),
    (inner) => errors(inner, { log: failures }),
    (inner) => compress(inner, { filter: (type) => type === 'application/x-ndjson' || type.startsWith('text/') }),
  )(site);
  return { app, stats, access, failures };
}

const servers: ServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close({ timeout: 100 })));
});

async function started(options: { failAt?: number; http2?: 'h2c' } = {}) {
  const service = exportService(options);
  const server = await serve(service.app, { host: '127.0.0.1', port: 0, log: service.failures, ...(options.http2 ? { http2: options.http2 } : {}) });
  servers.push(server);
  return { ...service, server };
}

/** A raw GET whose client reads nothing: answers the socket and the server's side of it. */
async function stalledGet(server: ServerHandle, path: string, extra = '') {
  const serverSide = new Promise<net.Socket>((resolve) => server.server.once('connection', resolve));
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`);
  return { socket, serverSide: await serverSide };
}

describe('scenario: a streaming CSV/NDJSON export', () => {
  it('streams 50,000 rows as a chunked attachment; gzip and br decode to the same bytes', async () => {
    const { server, stats } = await started();
    const full = await request(`${server.url}/export.csv?limit=50000`);
    expect(full.status).toBe(200);
    expect([full.headers['content-type'], full.headers['transfer-encoding'], full.headers['content-length']]).toEqual(['text/csv; charset=utf-8', 'chunked', undefined]);
    expect(full.headers['content-disposition']).toBe(`attachment; filename="Ubersicht Marz.csv"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.csv`);
    const lines = full.body.toString().split('\r\n');
    expect([lines.length, lines[0], lines[14], lines[50_000]]).toEqual([50_002, 'id,name,amount', '13,"Müller, ""GmbH"" 13",16.25', '49999,customer 49999,62498.75']);
    expect(stats).toMatchObject({ produced: 50_000, opened: 1, closed: 1 });

    const plain = await request(`${server.url}/export.ndjson?limit=10000&since=7`);
    const gzip = await request(`${server.url}/export.ndjson?limit=10000&since=7`, { headers: { 'accept-encoding': 'gzip' } });
    const br = await request(`${server.url}/export.ndjson?limit=10000&since=7`, { headers: { 'accept-encoding': 'br, gzip;q=0.5' } });
    expect([gzip.headers['content-encoding'], br.headers['content-encoding'], gzip.headers.vary]).toEqual(['gzip', 'br', 'Accept-Encoding']);
    expect(zlib.gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    expect(zlib.brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const rows = plain.body.toString().trimEnd().split('\n');
    expect([rows.length, JSON.parse(rows[0]!).id, JSON.parse(rows.at(-1)!).id]).toEqual([10_000, 7, 10_006]);
    expect([stats.opened, stats.closed]).toEqual([4, 4]);
  });

  it('negotiates the format, refuses bad parameters with a reason, and answers HEAD without the cursor', async () => {
    const { server, stats, access } = await started();
    const ndjson = await request(`${server.url}/export?limit=2`, { headers: { accept: 'application/x-ndjson' } });
    expect([ndjson.headers['content-type'], ndjson.headers.vary, ndjson.body.toString().split('\n').length]).toEqual(['application/x-ndjson', 'Accept, Accept-Encoding', 3]);
    const csv = await request(`${server.url}/export?limit=2`, { headers: { accept: 'text/csv;q=0.9, application/x-ndjson;q=0.1' } });
    expect(csv.body.toString()).toMatch(/^id,name,amount\r\n/);
    const refused = await request(`${server.url}/export?limit=2`, { headers: { accept: 'application/json' } });
    expect([refused.status, refused.body.toString()]).toEqual([406, expect.stringContaining('text/csv or application/x-ndjson')]);
    for (const [query, reason] of [
      ['limit=abc', 'limit must be a whole number from 0 to 1000000.'],
      ['limit=-5', 'limit must be a whole number from 0 to 1000000.'],
      ['limit=2000000', 'limit must be a whole number from 0 to 1000000.'],
      ['since=1e3', 'since must be a whole number from 0 to 1000000000.'],
      ['limit=1&limit=2', 'limit was given 2 times.'],
      ['limit=%ZZ', 'limit must be a whole number from 0 to 1000000.'],
    ]) {
      const bad = await request(`${server.url}/export.csv?${query}`);
      expect([bad.status, bad.body.toString()]).toEqual([400, expect.stringContaining(reason)]);
    }
    expect((await request(`${server.url}/export.csv`, { method: 'POST' })).status).toBe(405);
    const empty = await request(`${server.url}/export.csv?limit=0`);
    expect(empty.body.toString()).toBe('id,name,amount\r\n');
    const opened = stats.opened;
    for (const encoding of ['identity', 'gzip', 'br']) {
      const head = await request(`${server.url}/export.csv`, { method: 'HEAD', headers: { 'accept-encoding': encoding } });
      expect([head.status, head.headers['content-disposition']?.startsWith('attachment;'), head.body.length]).toEqual([200, true, 0]);
    }
    expect(stats.opened).toBe(opened); // HEAD ran no query
    await until(() => access.length === 14);
  });

  it('reads the cursor no further ahead than the socket takes when the client stops reading', async () => {
    const { server, stats } = await started();
    const { socket, serverSide } = await stalledGet(server, '/export.csv?limit=1000000');
    // The server stops pulling once a write waits for the socket to drain; rows produced are
    // then what the socket took (in the kernel's buffers) plus what Node holds for it.
    await until(() => serverSide.writableNeedDrain && stats.produced > 0);
    const produced = stats.produced;
    const handedToKernel = serverSide.bytesWritten - serverSide.writableLength;
    expect(stats.producedBytes - handedToKernel).toBeLessThan(256 * 1024);
    expect(produced).toBeLessThan(1_000_000);
    socket.destroy();
    await until(() => stats.closed === 1);
  });

  it('closes the cursor at once when the client hangs up after 1 MB (200 KB compressed), and logs what was sent', async () => {
    const { server, stats, access } = await started();
    for (const encoding of ['identity', 'gzip']) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.write(rawGet('/export.csv?limit=1000000', `Accept-Encoding: ${encoding}\r\n`));
      let received = 0;
      await new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > (encoding === 'identity' ? 1_000_000 : 200_000)) {
            socket.destroy();
            resolve();
          }
        }),
      );
    }
    await until(() => stats.closed === 2 && access.length === 2);
    expect(stats.produced).toBeLessThan(2_000_000);
    for (const line of access) {
      expect(line).toMatchObject({ status: 200, outcome: 'close' });
      expect(line.bytes).toBeGreaterThan(150_000);
    }
  });

  it('cuts a download that fails at row 50,000: no terminating chunk on HTTP/1.1, a reset on HTTP/2, one log line each', async () => {
    const { server, stats, access, failures } = await started({ failAt: 50_000, http2: 'h2c' });
    for (const encoding of ['identity', 'gzip']) {
      const result = await rawExchange(server.port, rawGet('/export.csv', `Accept-Encoding: ${encoding}\r\n`));
      const res = parseRaw(result.raw);
      expect([res.status, res.header('transfer-encoding')]).toEqual([200, 'chunked']);
      expect(res.rest.length).toBeGreaterThan(encoding === 'identity' ? 1_000_000 : 100_000);
      expect(res.rest.endsWith('\r\n0\r\n\r\n')).toBe(false);
    }
    const session = http2.connect(server.url);
    session.on('error', () => {});
    const reset = await new Promise<{ status: unknown; code: number; ended: boolean }>((resolve) => {
      const stream = session.request({ ':path': '/export.ndjson' });
      let status: unknown;
      let ended = false;
      stream.on('response', (headers) => (status = headers[':status']));
      stream.on('end', () => (ended = true));
      stream.on('error', () => {});
      stream.on('data', () => {});
      stream.on('close', () => resolve({ status, code: stream.rstCode ?? -1, ended }));
    });
    session.close();
    expect(reset).toEqual({ status: 200, code: http2.constants.NGHTTP2_INTERNAL_ERROR, ended: false });
    await until(() => access.length === 3 && stats.closed === 3);
    expect(failures.text.match(/database connection lost at row 50000/g)).toHaveLength(3);
    expect(access.map((line) => [line.status, line.outcome])).toEqual([
      [200, 'error'],
      [200, 'error'],
      [200, 'error'],
    ]);
  });

  it('serves 20 concurrent exports whole, every cursor closed', async () => {
    const { server, stats } = await started();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(`${server.url}/export.ndjson?limit=2000&since=${i * 2000}`, { headers: { 'accept-encoding': i % 2 ? 'gzip' : 'identity' } })),
    );
    answers.forEach((answer, i) => {
      const body = i % 2 ? zlib.gunzipSync(answer.body) : answer.body;
      const rows = body.toString().trimEnd().split('\n');
      expect([answer.status, rows.length, JSON.parse(rows[0]!).id, JSON.parse(rows.at(-1)!).id]).toEqual([200, 2000, i * 2000, i * 2000 + 1999]);
    });
    expect([stats.opened, stats.closed, stats.produced]).toEqual([20, 20, 40_000]);
  });

  it('server.close() during 5 long exports cuts them at its timeout, every cursor closed when it resolves', async () => {
    const { server, stats, access } = await started();
    const clients = Array.from({ length: 5 }, (_, i) => {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(rawGet('/export.csv?limit=1000000', `Accept-Encoding: ${i % 2 ? 'gzip' : 'identity'}\r\n`));
      let raw = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (raw += chunk));
      return new Promise<string>((resolve) => socket.on('close', () => resolve(raw)));
    });
    await until(() => stats.opened === 5);
    await server.close({ timeout: 200 });
    expect([stats.opened, stats.closed]).toEqual([5, 5]);
    for (const raw of await Promise.all(clients)) {
      expect(parseRaw(raw).status).toBe(200);
      expect(raw.endsWith('\r\n0\r\n\r\n')).toBe(false); // cut, never a clean end
    }
    await until(() => access.length === 5);
    expect(access.every((line) => line.status === 200 && line.outcome === 'close')).toBe(true);
  });
});
