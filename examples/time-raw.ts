/**
 * The time server on the raw gateway interface: everything done by hand.
 *
 * TypeScript rendering of the second WSGI listing of chapter 10 of *Foundations of Python
 * Network Programming* (`timeapp_raw.py`). The app reads the environ directly:
 *
 * - it splits the `Host` header at the first `:` to drop the port (a missing Host, as from an
 *   HTTP/1.0 client, counts as `127.0.0.1`, like the listing's default);
 * - it splits `PATH_INFO` at `?` to drop a query, as the listing does. A TSGI server already
 *   puts the query in `QUERY_STRING`, so this only matters for a decoded `%3F` in the path,
 *   which the listing (like this port of it) treats as the start of a query;
 * - a method other than `GET` answers `501 Not Implemented` (so does `HEAD`, as in the book);
 * - a host other than `127.0.0.1` or a path other than `/` answers `404 Not Found`;
 * - otherwise `200 OK` with the server's local time (`Date.prototype.toString()`, the
 *   counterpart of Python's `time.ctime()`).
 *
 * Every answer is `text/plain; charset=utf-8`. The app is a generator, so `startResponse` is
 * called lazily, when the server asks for the first chunk (allowed by docs/spec.md, as by
 * PEP 3333).
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/time-raw.ts:app
 * curl http://127.0.0.1:8000/                          # the time
 * curl -H 'Host: localhost' http://127.0.0.1:8000/     # 404
 * curl -X POST http://127.0.0.1:8000/                  # 501
 * ```
 *
 * @module
 */
import type { App } from 'tsgi';

const HEADERS: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8']];

/** The raw time app: 501 for non-GET, 404 unless host `127.0.0.1` and path `/`, else the time. */
export const app: App = function* timeApp(environ, startResponse) {
  let host = typeof environ.HTTP_HOST === 'string' ? environ.HTTP_HOST : '127.0.0.1';
  let path = environ.PATH_INFO;
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  const question = path.indexOf('?');
  if (question !== -1) path = path.slice(0, question);
  const encoder = new TextEncoder();
  if (environ.REQUEST_METHOD !== 'GET') {
    startResponse('501 Not Implemented', HEADERS);
    yield encoder.encode('501 Not Implemented');
  } else if (host !== '127.0.0.1' || path !== '/') {
    startResponse('404 Not Found', HEADERS);
    yield encoder.encode('404 Not Found');
  } else {
    startResponse('200 OK', HEADERS);
    yield encoder.encode(new Date().toString());
  }
};
