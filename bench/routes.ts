/**
 * The four routes every framework target of the benchmark answers (issue 14), what each must
 * answer byte for byte, and the check the runner and test/bench-targets.test.ts make of it:
 *
 * | route     | request                       | answer                                                       |
 * |-----------|-------------------------------|--------------------------------------------------------------|
 * | `/hello`  | `GET`                         | 200, `text/plain`, `Hello, World!` (13 bytes)                |
 * | `/stack`  | `GET`                         | the same, through 5 middlewares that each set `X-Mw-<n>: 1`  |
 * | `/stream` | `GET`                         | 200, `application/octet-stream`, 64 KiB sent as 16 chunks of 4 KiB from an async generator (no length known ahead: chunked) |
 * | `/echo`   | `POST` {@link ECHO_BODY} JSON | 200, `application/json`, the same JSON text                  |
 *
 * A charset on the Content-Type is allowed (frameworks add one). `/hello`, `/stream` and
 * `/echo` must carry no `X-Mw-*` field, so the middlewares of `/stack` cost those routes nothing.
 *
 * @module
 */
import { bigBody } from './upstream.ts';

/** The body of `/hello` and `/stack`. */
export const HELLO = 'Hello, World!';

/** How many middlewares `/stack` runs through, each setting `X-Mw-<n>: 1` (n = 1…5). */
export const MIDDLEWARES = 5;

/** The size of one chunk of `/stream`, and how many there are: 16 × 4 KiB = 64 KiB. */
export const CHUNK_SIZE = 4096;
export const CHUNKS = 16;
const STREAM_BODY = bigBody(CHUNK_SIZE * CHUNKS);
/** The chunks of `/stream`, made once (byte i of the body is i mod 251). */
const STREAM_CHUNKS: readonly Uint8Array[] = Array.from({ length: CHUNKS }, (_, i) => STREAM_BODY.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE));

/** The body of `/stream`, as an async generator of its 16 chunks (what every target streams). */
export async function* streamChunks(): AsyncGenerator<Uint8Array> {
  for (const chunk of STREAM_CHUNKS) yield chunk;
}

/** The JSON `/echo` is sent; its `JSON.stringify(JSON.parse(…))` is itself, so every echo is byte-identical. */
export const ECHO_BODY = JSON.stringify({ id: 42, name: 'tsgi', tags: ['wsgi', 'webob', 'werkzeug'], nested: { ok: true, ratio: 0.95 } });

/**
 * The header fields a browser sends with a page request behind a reverse proxy (Chrome 131 on
 * Linux, then nginx's forwarding fields): what `--headers browser` adds to every request, so
 * that a run measures the servers on the requests they get in production rather than on the
 * load generator's two or three fields. The load generator adds `Host` and `Connection`.
 */
export const BROWSER_FIELDS: Readonly<Record<string, string>> = {
  'sec-ch-ua': '"Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Linux"',
  'upgrade-insecure-requests': '1',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-user': '?1',
  'sec-fetch-dest': 'document',
  referer: 'https://example.com/',
  'accept-encoding': 'gzip, deflate, br, zstd',
  'accept-language': 'en-GB,en;q=0.9',
  cookie: 'session=7f3a9c2e41b8d6f0; theme=dark; _ga=GA1.1.123456789.1700000000',
  priority: 'u=0, i',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'example.com',
  'x-real-ip': '203.0.113.7',
};

/** The name of a route. */
export type RouteName = 'hello' | 'stack' | 'stream' | 'echo';

/** One route: how to ask for it and what must come back. */
export interface Route {
  name: RouteName;
  /** Path under the target's URL, without the leading slash. */
  path: string;
  method: 'GET' | 'POST';
  /** Request body and fields (`/echo`). */
  body?: string;
  headers?: Record<string, string>;
  /** The Content-Type, charset allowed. */
  contentType: RegExp;
  /** The exact body. */
  expected: Buffer;
  /** The `X-Mw-*` fields, `1` each, that must come back (none elsewhere). */
  middlewareFields: number;
  /** Loaded with undici rather than autocannon (a large body, see bench/load-undici.ts). */
  large?: boolean;
}

/** The four routes, in the order they are measured. */
export const ROUTES: readonly Route[] = [
  { name: 'hello', path: 'hello', method: 'GET', contentType: /^text\/plain(\s*;\s*charset=utf-8)?$/i, expected: Buffer.from(HELLO), middlewareFields: 0 },
  { name: 'stack', path: 'stack', method: 'GET', contentType: /^text\/plain(\s*;\s*charset=utf-8)?$/i, expected: Buffer.from(HELLO), middlewareFields: MIDDLEWARES },
  { name: 'stream', path: 'stream', method: 'GET', contentType: /^application\/octet-stream$/i, expected: STREAM_BODY, middlewareFields: 0, large: true },
  {
    name: 'echo',
    path: 'echo',
    method: 'POST',
    body: ECHO_BODY,
    headers: { 'content-type': 'application/json' },
    contentType: /^application\/json(\s*;\s*charset=utf-8)?$/i,
    expected: Buffer.from(ECHO_BODY),
    middlewareFields: 0,
  },
];

/** The route names, for `--routes` and its checks. */
export const ROUTE_NAMES: readonly RouteName[] = ROUTES.map((r) => r.name);

/**
 * Picks routes by name (`--routes hello,stack`), in the order of {@link ROUTES}.
 *
 * @throws Error naming the unknown ones and the known routes.
 */
export function selectRoutes(names: readonly string[]): Route[] {
  const unknown = names.filter((name) => !ROUTE_NAMES.includes(name as RouteName));
  if (unknown.length > 0) throw new Error(`unknown route(s): ${unknown.join(', ')}; known: ${ROUTE_NAMES.join(', ')}`);
  return ROUTES.filter((r) => names.includes(r.name));
}

/**
 * Asks `url` (a target's URL for `route`) once, as the benchmark does (with `fields` added to
 * the route's, e.g. {@link BROWSER_FIELDS}), and answers what is wrong with the answer (status,
 * Content-Type, body bytes, `X-Mw-*` fields): an empty list when it is right.
 */
export async function checkAnswer(url: string, route: Route, fields?: Readonly<Record<string, string>>): Promise<string[]> {
  const response = await fetch(url, {
    method: route.method,
    headers: { ...fields, ...route.headers },
    body: route.body,
    signal: AbortSignal.timeout(5000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const problems: string[] = [];
  if (response.status !== 200) problems.push(`status ${response.status}, expected 200`);
  const type = response.headers.get('content-type');
  if (type === null || !route.contentType.test(type)) problems.push(`Content-Type ${JSON.stringify(type)}, expected ${route.contentType}`);
  if (!body.equals(route.expected)) {
    const said = body.length > 80 ? `${body.length} bytes` : JSON.stringify(body.toString());
    problems.push(`body ${said}, expected ${route.expected.length > 80 ? `${route.expected.length} bytes` : JSON.stringify(route.expected.toString())}`);
  }
  const marked = [...response.headers.keys()].filter((name) => /^x-mw-/i.test(name));
  const wanted = Array.from({ length: route.middlewareFields }, (_, i) => `x-mw-${i + 1}`);
  for (const name of wanted) {
    if (response.headers.get(name) !== '1') problems.push(`${name}: ${JSON.stringify(response.headers.get(name))}, expected "1"`);
  }
  const extra = marked.filter((name) => !wanted.includes(name));
  if (extra.length > 0) problems.push(`unexpected field(s) ${extra.join(', ')}`);
  return problems;
}
