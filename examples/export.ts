/**
 * A reporting export: every order as a CSV or NDJSON download, streamed from a database cursor
 * with backpressure, behind `accessLog`, `errors`, `timeout` and `compress`
 * (docs/response.md, "Streaming an export").
 *
 * | Route                 | Does                                                                  |
 * | --------------------- | --------------------------------------------------------------------- |
 * | `GET /orders.csv`     | a CSV download (`Content-Disposition: attachment`), `?since=YYYY-MM-DD` |
 * | `GET /orders.ndjson`  | the same rows, one JSON object a line                                 |
 * | `HEAD` of either      | the same head, without running the query                              |
 *
 * What it shows:
 *
 * - the cursor is opened inside the body's generator, by its `for await`: a `HEAD` (whose body
 *   is closed unread) never runs the query, and a client that leaves, a failure, a timeout or
 *   the server's shutdown closes the cursor through that loop (`return()` reaches the cursor);
 * - the query's first batch comes before the head: `timeout` limits the wait for it, and a
 *   query that fails at once is a clean `500`; a failure half-way aborts the download (the
 *   chunked body is not terminated, curl says `transfer closed`), logged once by `errors`;
 * - rows are yielded one by one: `compress` flushes when the cursor waits for its next batch
 *   (or every 16 KiB), not per row; NDJSON is named in its `filter` (mime-db does not know it);
 * - no `Content-Length` (the size is not known), so no byte ranges either: a `Range` request
 *   gets the whole `200`, as for any answer of unknown length.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/export.ts:app --no-access-log   # the app logs itself
 * curl -OJ --compressed 'http://127.0.0.1:8000/orders.csv?since=2026-01-01'
 * ```
 *
 * @module
 */
import compressible from 'compressible';
import { HTTPBadRequest, HTTPMethodNotAllowed, HTTPNotFound, Request, Response, compose } from 'tsgi';
import { type AccessLogOptions, type ErrorsOptions, accessLog, compress, errors, timeout } from 'tsgi/middleware';

/** One row of the export. */
export interface Order {
  id: number;
  customer: string;
  total: number;
  placed: string;
}

/**
 * Runs the query and reads its rows, as a driver's cursor does (pg's `Cursor`, a
 * `QueryStream`, mysql2's `.stream()`): iterating opens it, `return()` closes it. `signal`
 * aborts when the client leaves or the `timeout` is up.
 */
export type OrderQuery = (filter: { since: string | null }, signal: AbortSignal | undefined) => AsyncIterable<Order>;

/** Options of {@link createExportService}. */
export interface ExportOptions {
  query: OrderQuery;
  /** Where the access log goes; default stdout. */
  accessLog?: AccessLogOptions['log'];
  /** Where failures go; default `tsgi.errors`. */
  errorLog?: ErrorsOptions['log'];
  /** How long the query has for its first row, ms. Default 30 s. */
  firstRowTimeout?: number;
}

const encoder = new TextEncoder();
const CSV_HEADER = 'id,customer,total,placed\r\n';

/** One CSV field (RFC 4180), with a text that a spreadsheet would run as a formula made inert. */
function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const csvLine = (order: Order) => `${[order.id, order.customer, order.total.toFixed(2), order.placed].map(csvField).join(',')}\r\n`;
const jsonLine = (order: Order) => `${JSON.stringify(order)}\n`;

/**
 * The download: the cursor is opened by the `for await`, so a body closed unread (HEAD) never
 * opens it, and closing the body closes it. `header` goes out with the first row, so the head
 * waits for the query's first batch (and an empty result is the header alone).
 */
async function* download(rows: AsyncIterable<Order>, line: (order: Order) => string, header = ''): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const order of rows) {
    yield encoder.encode(first ? header + line(order) : line(order));
    first = false;
  }
  if (first) yield encoder.encode(header);
}

/** `?since=YYYY-MM-DD`, checked: a 400 with a short reason otherwise. */
function sinceOf(req: Request): string | null {
  const since = req.query.get('since') ?? null;
  if (since !== null && (!/^\d{4}-\d{2}-\d{2}$/.test(since) || Number.isNaN(Date.parse(since)))) {
    throw new HTTPBadRequest('since must be a date, YYYY-MM-DD.');
  }
  return since;
}

/** The export service: its routes behind the production stack. */
export function createExportService(options: ExportOptions) {
  const site = Request.application((req) => {
    const format = { '/orders.csv': 'csv', '/orders.ndjson': 'ndjson' }[req.pathInfo];
    if (format === undefined) throw new HTTPNotFound();
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HTTPMethodNotAllowed(['GET', 'HEAD']);
    const rows = { [Symbol.asyncIterator]: () => options.query({ since: sinceOf(req) }, req.signal)[Symbol.asyncIterator]() };
    const res =
      format === 'csv'
        ? new Response(download(rows, csvLine, CSV_HEADER), { contentType: 'text/csv; charset=utf-8; header=present' })
        : new Response(download(rows, jsonLine), { contentType: 'application/x-ndjson' });
    res.attachment(`orders-${new Date().toISOString().slice(0, 10)}.${format}`);
    res.cacheControl.noStore = true;
    return res;
  });
  return compose(
    (app) => accessLog(app, { log: options.accessLog }),
    (app) => errors(app, { log: options.errorLog }),
    (app) => timeout(app, { ms: options.firstRowTimeout ?? 30_000 }),
    (app) => compress(app, { filter: (type) => type.startsWith('application/x-ndjson') || compressible(type) === true }),
  )(site);
}

/**
 * A stand-in for a database: `total` orders read in batches of `batch` rows, each batch a
 * round trip (a timer). It counts what was fetched and which cursors are open, so the tests can
 * see the backpressure and the closing; `failAt` makes the connection fail at that row.
 */
export function fakeOrders(total: number, options: { batch?: number; failAt?: number } = {}) {
  const batch = options.batch ?? 500;
  const stats = { queries: 0, fetched: 0, open: 0 };
  const query: OrderQuery = async function* ({ since }, signal) {
    stats.queries++;
    stats.open++;
    try {
      for (let id = 1; id <= total; id++) {
        if ((id - 1) % batch === 0) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          signal?.throwIfAborted();
        }
        if (id === options.failAt) throw new Error(`connection to the database lost at order ${id}`);
        stats.fetched++;
        yield { id, customer: id % 97 === 0 ? `=HYPERLINK("x"), "Ltd"` : `customer ${id}`, total: id * 1.25, placed: since ?? '2026-01-01' };
      }
    } finally {
      stats.open--;
    }
  };
  return { query, stats };
}

export const app = createExportService({ query: fakeOrders(100_000).query });
