/**
 * Misconfiguration fails at construction: every middleware and option-taking constructor
 * refuses options that are not a plain object, and an option it does not know (a misspelled
 * `origins`, `x_for`, `maxage`), naming the key and the option it likely meant.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import {
  AuthTickets,
  CookieSessions,
  accessLog,
  basicAuth,
  bearerAuth,
  cascade,
  compress,
  cors,
  crossOriginProtection,
  decodeBody,
  directoryApp,
  errorPages,
  errors,
  etag,
  fileApp,
  methodOverride,
  mount,
  proxyFix,
  requestId,
  secureHeaders,
  staticUsers,
  timeout,
} from 'tsgi/middleware';
import { proxy, replaceText, rewriteHtml, rewriteLocation } from 'tsgi/proxy';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { toNodeHandler } from 'tsgi/node';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';

const hello: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('hello')];
};
const secret = 'a secret of at least thirty-two characters, for tests';
const fetchEcho = (request: globalThis.Request): globalThis.Response => new globalThis.Response(request.url);

/** Each constructor with the options given; the options it is tried with: a misspelled key, and the option meant. */
const cases: Array<[name: string, build: (options: never) => unknown, misspelled: Record<string, unknown>, meant: string | null, required?: object]> = [
  ['accessLog', (o) => accessLog(hello, o), { formt: 'json' }, 'format'],
  ['basicAuth', (o) => basicAuth(hello, o), { realms: 'x' }, 'realm', { verify: staticUsers({}) }],
  ['bearerAuth', (o) => bearerAuth(hello, o), { scopes: ['read'] }, 'scope', { verify: () => false }],
  ['cascade', (o) => cascade([hello], o), { maxBodySise: 10 }, 'maxBodySize'],
  ['compress', (o) => compress(hello, o), { treshold: 10 }, 'threshold'],
  ['new CookieSessions', (o) => new CookieSessions(o), { maxage: 60 }, 'maxAge', { secret }],
  ['new AuthTickets', (o) => new AuthTickets(o), { cookiename: 'auth' }, 'cookieName', { secret }],
  ['cors', (o) => cors(hello, o), { origins: ['https://a.example'] }, 'origin'],
  ['crossOriginProtection', (o) => crossOriginProtection(hello, o), { trustedOrigin: ['https://a.example'] }, 'trustedOrigins'],
  ['decodeBody', (o) => decodeBody(hello, o), { maxsize: 10 }, 'maxSize'],
  ['errorPages', (o) => errorPages(hello, o), { renderer: () => null }, 'render', { render: () => null }],
  ['errors', (o) => errors(hello, o), { debugg: true }, 'debug'],
  ['etag', (o) => etag(hello, o), { weak_: true }, 'weak'],
  ['methodOverride', (o) => methodOverride(hello, o), { headers: 'X-HTTP-Method' }, 'header'],
  ['mount', (o) => mount({ '/a': hello }, o), { notfound: hello }, 'notFound'],
  ['proxyFix', (o) => proxyFix(hello, o), { x_for: 1 }, 'xFor'],
  ['requestId', (o) => requestId(hello, o), { trust_incoming: true }, 'trustIncoming'],
  ['secureHeaders', (o) => secureHeaders(hello, o), { xFrameOption: 'DENY' }, 'xFrameOptions'],
  ['fileApp', (o) => fileApp('package.json', o), { maxage: 60 }, 'maxAge'],
  ['directoryApp', (o) => directoryApp('.', o), { listings: true }, 'listing'],
  ['timeout', (o) => timeout(hello, o), { stauts: 503 }, 'status', { ms: 10 }],
  ['proxy', (o) => proxy('http://127.0.0.1:9/', o), { preserveHosts: true }, 'preserveHost'],
  ['rewriteLocation', (o) => rewriteLocation(hello, o), { upstreams: 'x' }, 'upstream', { upstream: 'http://127.0.0.1:9/' }],
  ['rewriteHtml', (o) => rewriteHtml(hello, o), { element: {} }, 'elements'],
  ['replaceText', (o) => replaceText(hello, o), { maxMatchLen: 10 }, 'maxMatchLength', { replacements: [] }],
  ['new RouteMap', (o) => new RouteMap({ home: '/' }, o), { strictSlash: false }, 'strictSlashes'],
  ['new TestClient', (o) => new TestClient(hello, o), { baseURL: 'http://a.example' }, 'baseUrl'],
  ['toNodeHandler', (o) => toNodeHandler(hello, o), { maxBodySise: 10 }, 'maxBodySize'],
  ['toFetchHandler', (o) => toFetchHandler(hello, o), { scriptname: '/app' }, 'scriptName'],
  ['fromFetchHandler', (o) => fromFetchHandler(fetchEcho, o), { strip_prefix: true }, 'stripPrefix'],
  ['serve', (o) => serve(hello, o), { prot: 0 }, 'port', { port: 0 }],
];

/** What `build` throws, or the rejection of the promise it returns (`serve`). */
async function failure(build: () => unknown): Promise<unknown> {
  try {
    const result = build();
    if (result instanceof Promise) {
      const handle = await result.catch((error: unknown) => ({ error }));
      if ('error' in (handle as object)) return (handle as { error: unknown }).error;
      await (handle as { close(): Promise<void> }).close();
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('options are checked at construction', () => {
  it.each(cases)('%s refuses a misspelled option, naming it and the one meant', async (name, build, misspelled, meant, required) => {
    const error = await failure(() => build({ ...required, ...misspelled } as never));
    expect(error).toBeInstanceOf(TypeError);
    const key = Object.keys(misspelled)[0]!;
    expect((error as Error).message).toContain(`${name}: unknown option ${JSON.stringify(key)}`);
    if (meant !== null) expect((error as Error).message).toContain(`did you mean ${JSON.stringify(meant)}?`);
  });

  it.each(cases)('%s takes its known options', async (_name, build, _misspelled, _meant, required) => {
    expect(await failure(() => build({ ...required } as never))).toBeUndefined();
  });

  it.each(cases)('%s refuses a function where its options go', async (name, build) => {
    const error = await failure(() => build((() => undefined) as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(new RegExp(`^${name}: .*function`));
  });

  it('names the argument the options are, and what was given', () => {
    expect(() => accessLog(hello, ((line: string) => line) as never)).toThrow(/^accessLog: the second argument is the options object \(\{ log, format, redactQuery \}\), not a function$/);
    expect(() => errors(hello, 'debug' as never)).toThrow(/^errors: the second argument is the options object .*, not a string$/);
    expect(() => new CookieSessions([secret] as never)).toThrow(/^new CookieSessions: the first argument is the options object .*, not an array$/);
    expect(() => cors(hello, null as never)).toThrow(/^cors: .*not null$/);
    expect(() => cors(hello, new Map([['origin', '*']]) as never)).toThrow(/^cors: .*not a Map object$/);
    class Options {}
    expect(() => cors(hello, new Options() as never)).toThrow(/^cors: .*not an Options object$/);
    // Options inheriting from a base object: its keys would go unchecked, so spread it instead.
    expect(() => cors(hello, Object.create({ origin: '*' }) as never)).toThrow(/^cors: .*not an object inheriting from another \(Object\.create\(base\)\): spread it, \{ \.\.\.base \}$/);
    expect(() => cors(hello, new URL('https://a.example') as never)).toThrow(/^cors: .*not a URL object$/);
  });

  it('takes undefined options, known keys holding undefined, and objects without a prototype', async () => {
    expect(() => cors(hello, undefined)).not.toThrow();
    expect(() => cors(hello, { origin: undefined, maxAge: undefined })).not.toThrow();
    expect(() => proxyFix(hello, Object.assign(Object.create(null) as object, { xFor: 1 }))).not.toThrow();
    // A config object made in another realm (a vm context, an iframe) is a plain object too.
    expect(() => cors(hello, runInNewContext('({ origin: "https://a.example" })') as object)).not.toThrow();
    expect(() => cors(hello, runInNewContext('({ origins: "https://a.example" })') as object)).toThrow(/did you mean "origin"/);
    const client = new TestClient(cors(hello, { origin: 'https://a.example' }));
    const res = await client.get('/', { headers: { Origin: 'https://a.example' } });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://a.example');
  });

  it("refuses a RouteMap rule object's unknown key, which tsc lets through a const type parameter", async () => {
    // `method` for `methods`: the rule would answer GET and HEAD only, a POST a silent 405.
    expect(() => new RouteMap({ create: { path: '/items', method: ['POST'] } })).toThrow(/^new RouteMap: the rule of "create": unknown option "method": did you mean "methods"\?/);
    expect(() => new RouteMap({ old: [{ path: '/a', default: { page: 1 } }] })).toThrow(/^new RouteMap: the rule of "old": unknown option "default": did you mean "defaults"\?/);
    expect(() => new RouteMap({ home: { pattern: '/' } as never })).toThrow(/^new RouteMap: the rule of "home": unknown option "pattern"/);
    expect(() => new RouteMap({ home: 3 as never })).toThrow(/^new RouteMap: the rule of "home" is a pattern string or an object \{ path, methods, … \}, not a number$/);
    expect(() => new RouteMap({ home: {} as never })).toThrow(/^new RouteMap: the rule of "home" has no path$/);
    const routes = new RouteMap({ create: { path: '/items', methods: ['POST'], strictSlashes: undefined } });
    const client = new TestClient(routes.app({ create: () => 'made' }));
    expect(await (await client.post('/items')).text()).toBe('made');
  });

  it('says no "did you mean" when nothing is close, and lists the options', () => {
    expect(() => cors(hello, { allowOrigin: '*' } as never)).toThrow(
      /^cors: unknown option "allowOrigin" \(options: origin, allowMethods, allowHeaders, exposeHeaders, credentials, maxAge\)$/,
    );
  });

  it('checks the content security policy object of secureHeaders too', () => {
    expect(() => secureHeaders(hello, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"] }, reportonly: true } as never })).toThrow(
      /^secureHeaders: unknown option "contentSecurityPolicy\.reportonly": did you mean "reportOnly"\?/,
    );
  });
});
