/**
 * examples/export.ts, a CSV/NDJSON export streamed from a database cursor, over a real socket:
 * the download (chunked, no length, compressed), HEAD without the query, the cursor closed when
 * the client leaves, a failure half-way that aborts the download and is logged once, a Range
 * answered with the whole 200, and a slow reader that holds the cursor back.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createExportService, fakeOrders } from '../examples/export.ts';
import { errorLog, parseRaw, rawExchange, rawGet, request, sleep, start, until } from './node-helpers.ts';

async function service(total: number, options: { failAt?: number } = {}) {
  const db = fakeOrders(total, options);
  const access: string[] = [];
  const failures = errorLog();
  const server = await start(createExportService({ query: db.query, accessLog: { write: (line) => void access.push(line) }, errorLog: failures }));
  return { db, server, access, failures };
}

describe('examples/export.ts', () => {
  it('downloads every row as CSV, chunked, as an attachment, the same rows compressed', async () => {
    const { db, server } = await service(3000);
    const plain = await request(`${server.url}/orders.csv?since=2026-03-01`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(plain.headers['content-disposition']).toMatch(/^attachment; filename=orders-\d{4}-\d{2}-\d{2}\.csv$/);
    expect([plain.headers['content-length'], plain.headers['transfer-encoding']]).toEqual([undefined, 'chunked']);
    const lines = plain.body.toString().split('\r\n');
    expect(lines[0]).toBe('id,customer,total,placed');
    expect(lines[1]).toBe('1,customer 1,1.25,2026-03-01');
    expect(lines[97]).toBe(`97,"'=HYPERLINK(""x""), ""Ltd""",121.25,2026-03-01`); // quoted, and no formula
    expect(lines.length).toBe(3002); // the header, 3000 rows, the empty string after the last CRLF
    const gzip = await request(`${server.url}/orders.csv?since=2026-03-01`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gzip.body).toString()).toBe(plain.body.toString());
    const ndjson = await request(`${server.url}/orders.ndjson`, { headers: { 'accept-encoding': 'br' } });
    expect([ndjson.headers['content-type'], ndjson.headers['content-encoding']]).toEqual(['application/x-ndjson', 'br']);
    const rows = zlib.brotliDecompressSync(ndjson.body).toString().trimEnd().split('\n');
    expect([rows.length, JSON.parse(rows[2]!)]).toEqual([3000, { id: 3, customer: 'customer 3', total: 3.75, placed: '2026-01-01' }]);
    expect([db.stats.queries, db.stats.open]).toEqual([3, 0]);
  });

  it('answers HEAD with the fields of GET without running the query', async () => {
    const { db, server, access } = await service(3000);
    for (const encoding of ['identity', 'gzip']) {
      const head = await request(`${server.url}/orders.csv`, { method: 'HEAD', headers: { 'accept-encoding': encoding } });
      expect(head.status).toBe(200);
      expect(head.headers['content-disposition']).toMatch(/^attachment; filename=orders-/);
      expect(head.body.length).toBe(0);
    }
    expect(db.stats).toEqual({ queries: 0, fetched: 0, open: 0 });
    await until(() => access.length === 2);
  });

  it('answers a Range request with the whole 200 (the length is not known), and bad input with a 400', async () => {
    const { server } = await service(100);
    const ranged = await request(`${server.url}/orders.csv`, { headers: { range: 'bytes=0-99' } });
    expect([ranged.status, ranged.headers['content-range'], ranged.headers['accept-ranges']]).toEqual([200, undefined, undefined]);
    expect(ranged.body.toString().split('\r\n').length).toBe(102);
    const bad = await request(`${server.url}/orders.csv?since=yesterday`);
    expect([bad.status, bad.body.toString()]).toEqual([400, expect.stringContaining('since must be a date, YYYY-MM-DD.')]);
    expect((await request(`${server.url}/orders.csv`, { method: 'POST' })).status).toBe(405);
  });

  it('aborts a download that fails half-way (never a clean end), logged once', async () => {
    const { db, server, access, failures } = await service(5000, { failAt: 2500 });
    for (const encoding of ['identity', 'gzip']) {
      const result = await rawExchange(server.port, rawGet('/orders.csv', `Accept-Encoding: ${encoding}\r\n`));
      const res = parseRaw(result.raw);
      expect(res.status).toBe(200);
      expect(res.rest.endsWith('0\r\n\r\n')).toBe(false); // the chunked body is never terminated
    }
    await until(() => access.length === 2);
    expect(access.map((line) => line.split('"')[2]!.trim().split(' ')[0])).toEqual(['200', '200']);
    expect(failures.text.match(/connection to the database lost at order 2500/g)).toHaveLength(2); // once per request
    expect(db.stats.open).toBe(0);
  });

  it('answers a clean 500 when the query fails before its first row', async () => {
    const { db, server, failures } = await service(5000, { failAt: 1 });
    const res = await request(`${server.url}/orders.csv`);
    expect([res.status, res.headers['content-disposition'], res.body.toString()]).toEqual([500, undefined, expect.stringContaining('Internal Server Error')]);
    await until(() => failures.text.includes('connection to the database lost at order 1'));
    expect(db.stats.open).toBe(0);
  });

  it('holds the cursor back while a slow client reads, and closes it when the client leaves', async () => {
    const { db, server, access } = await service(10_000_000);
    const socket = net.connect(server.port, '127.0.0.1');
    // Uncompressed: loopback's socket buffers grow to tens of MiB, which compressed NDJSON
    // would take millions of rows to fill (test/middleware-compress.test.ts checks compress's
    // own backpressure with stored blocks).
    socket.write(rawGet('/orders.ndjson'));
    socket.pause();
    let received = 0;
    // Reads 64 KiB a second, for 1.5 s, then stops reading.
    for (let tick = 0; tick < 15; tick++) {
      await sleep(100);
      for (let chunk = socket.read(); chunk !== null && received < (tick + 1) * 6554; chunk = socket.read()) received += (chunk as Buffer).length;
    }
    expect(received).toBeGreaterThan(0);
    // The cursor is read only as far as the socket buffers hold (some MiB), then waits:
    // unbounded, it would run on through its ten million rows (several hundred thousand a second).
    let settled = false;
    for (let last = -1, waited = 0; !settled && waited < 6000; waited += 300) {
      last = db.stats.fetched;
      await sleep(300);
      settled = db.stats.fetched === last;
    }
    expect(settled).toBe(true);
    expect(db.stats.fetched).toBeLessThan(500_000);
    socket.destroy();
    await until(() => db.stats.open === 0);
    await until(() => access.length === 1);
    expect(access[0]).toContain('"GET /orders.ndjson HTTP/1.1" 200');
  });
});
