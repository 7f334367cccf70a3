import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, HTTPFound, HTTPGone, Request, Response, serve } from 'tsgi';
import { lint, mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { cleanPath } from '../src/middleware/clean-path.ts';
import { parseRaw, rawExchange } from './node-helpers.ts';

/** An app that answers where it is mounted and what it sees. */
function where(name: string): App {
  return lint(
    Request.application((req) =>
      Response.json({ name, script: req.scriptName, path: req.pathInfo, appUrl: req.applicationUrl, url: req.url }),
    ),
  );
}

async function withServer(app: AppLike, fn: (url: string, port: number) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0 });
  try {
    await fn(server.url, server.port);
  } finally {
    await server.close();
  }
}

/** A raw request: the path goes out exactly as written (no client-side normalisation). */
function raw(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function seen(port: number, path: string, headers?: Record<string, string>) {
  const res = await raw(port, path, headers);
  return { status: res.status, ...(res.status === 200 ? JSON.parse(res.body) : {}) };
}

describe('mount', () => {
  const app = lint(
    mount({
      '/': where('root'),
      '/blog': where('blog'),
      '/blog/admin/': where('blog-admin'),
      '/café': where('cafe'),
    }),
  );

  it('sends each request to the longest matching prefix, moving it to SCRIPT_NAME', async () => {
    await withServer(app, async (_url, port) => {
      expect(await seen(port, '/')).toMatchObject({ name: 'root', script: '', path: '/' });
      expect(await seen(port, '/blog/2024/hi?x=1')).toMatchObject({
        name: 'blog',
        script: '/blog',
        path: '/2024/hi',
        appUrl: `http://127.0.0.1:${port}/blog`,
        url: `http://127.0.0.1:${port}/blog/2024/hi?x=1`,
      });
      expect(await seen(port, '/blog/admin/users')).toMatchObject({ name: 'blog-admin', script: '/blog/admin', path: '/users' });
      expect(await seen(port, '/blog/administrator')).toMatchObject({ name: 'blog', path: '/administrator' });
    });
  });

  it('matches whole segments only, and /blog without a slash gives PATH_INFO ""', async () => {
    await withServer(app, async (_url, port) => {
      expect(await seen(port, '/blogger')).toMatchObject({ name: 'root', script: '', path: '/blogger' });
      expect(await seen(port, '/blog')).toMatchObject({ name: 'blog', script: '/blog', path: '' });
      expect(await seen(port, '/blog/')).toMatchObject({ name: 'blog', script: '/blog', path: '/' });
    });
  });

  it('matches decoded paths and keeps URLs quoted', async () => {
    await withServer(app, async (_url, port) => {
      expect(await seen(port, '/caf%C3%A9/menu')).toMatchObject({
        name: 'cafe',
        script: '/café',
        path: '/menu',
        appUrl: `http://127.0.0.1:${port}/caf%C3%A9`,
      });
      // %2F decodes to a slash, as in every CGI server.
      expect(await seen(port, '/blog%2Fx')).toMatchObject({ name: 'blog', path: '/x' });
      expect(await seen(port, '/%62log/x')).toMatchObject({ name: 'blog', path: '/x' });
    });
  });

  it('redirects paths with dot segments or repeated slashes to their clean form (hostile paths)', async () => {
    const calls: string[] = [];
    const spy = (inner: App): App => (environ, start) => {
      calls.push(environ.PATH_INFO);
      return inner(environ, start);
    };
    const guarded = lint(mount({ '/': spy(where('root')), '/public': spy(where('public')), '/admin': where('admin') }));
    await withServer(guarded, async (url, port) => {
      const cases: Array<[string, string]> = [
        ['/public/../admin/x', '/admin/x'],
        ['/public/%2e%2e/admin', '/admin'],
        ['/public/..%2Fadmin', '/admin'],
        ['//admin', '/admin'],
        ['/./admin/?q=1', '/admin/?q=1'],
        ['/public//x//', '/public/x/'],
        ['/../../..', '/'],
        ['/admin/../public/caf%C3%A9/.', '/public/caf%C3%A9/'],
      ];
      for (const [path, clean] of cases) {
        const res = await raw(port, path);
        expect(res.status, path).toBe(308);
        expect(res.headers.location, path).toBe(`${url}${clean}`);
      }
      // Following the redirect reaches the right app.
      expect(await seen(port, '/admin/x')).toMatchObject({ name: 'admin', path: '/x' });
      // Names that merely contain dots are not dot segments.
      expect(await seen(port, '/public/..hidden/.x')).toMatchObject({ name: 'public', path: '/..hidden/.x' });
    });
    expect(calls).toEqual(['/..hidden/.x']);
  });

  it('keeps the outer SCRIPT_NAME in the clean redirect, and can be turned off', async () => {
    const inner = mount({ '/a': where('a') });
    const res = await Request.blank('/x//y?z=1', { baseUrl: 'https://example.com/site' }).getResponse(inner);
    expect(res.statusCode).toBe(308);
    expect(res.headers.get('location')).toBe('https://example.com/site/x/y?z=1');
    const raw = mount({ '/fetch': where('fetch') }, { cleanPaths: false });
    const passed = await Request.blank('/fetch/https://example.com/./x').getResponse(raw);
    await passed.bytes();
    expect((await passed.json())).toMatchObject({ name: 'fetch', path: '/https://example.com/./x' });
  });

  it('answers a negotiated 404 when nothing matches', async () => {
    const only = lint(mount({ '/blog': where('blog') }));
    await withServer(only, async (url) => {
      const json = await fetch(`${url}/nope`, { headers: { accept: 'application/json' } });
      expect(json.status).toBe(404);
      expect(json.headers.get('vary')).toBe('Accept');
      expect(await json.json()).toMatchObject({ code: 404 });
      const html = await fetch(`${url}/<script>`, { headers: { accept: 'text/html' } });
      expect(html.status).toBe(404);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      const text = await fetch(`${url}/blogger`);
      expect(text.status).toBe(404);
      expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    });
  });

  it('uses options.notFound when given', async () => {
    const only = mount({ '/a': where('a') }, { notFound: new HTTPGone('gone for good') });
    const res = await Request.blank('/b').getResponse(only);
    expect(res.statusCode).toBe(410);
  });

  it('dispatches on host keys first, any port unless the key names one', async () => {
    const hosts = lint(
      mount({
        '/': where('root'),
        '/v1': where('plain-v1'),
        'http://api.example.com/': where('api'),
        'https://API.example.com/v1/': where('api-v1'),
        'http://admin.example.com:8080/': where('admin-8080'),
        'http://static.example.com:80': where('static-80'),
      }),
    );
    await withServer(hosts, async (_url, port) => {
      expect(await seen(port, '/x', { host: 'api.example.com' })).toMatchObject({ name: 'api', script: '', path: '/x' });
      expect(await seen(port, '/x', { host: 'API.Example.COM.:9999' })).toMatchObject({ name: 'api' });
      expect(await seen(port, '/v1/users', { host: 'api.example.com' })).toMatchObject({ name: 'api-v1', script: '/v1', path: '/users' });
      expect(await seen(port, '/v1/users', { host: 'other.example.com' })).toMatchObject({ name: 'plain-v1' });
      expect(await seen(port, '/', { host: 'admin.example.com:8080' })).toMatchObject({ name: 'admin-8080' });
      expect(await seen(port, '/', { host: 'admin.example.com' })).toMatchObject({ name: 'root' });
      // No port in Host means the scheme's default, so the :80 key matches.
      expect(await seen(port, '/', { host: 'static.example.com' })).toMatchObject({ name: 'static-80' });
      expect(await seen(port, '/', { host: 'static.example.com:80' })).toMatchObject({ name: 'static-80' });
      expect(await seen(port, '/', { host: 'static.example.com:81' })).toMatchObject({ name: 'root' });
      // Look-alike hosts do not match.
      expect(await seen(port, '/', { host: 'api.example.com.evil.test' })).toMatchObject({ name: 'root' });
      expect(await seen(port, '/', { host: 'evilapi.example.com' })).toMatchObject({ name: 'root' });
    });
  });

  it('matches a host key written in Unicode on the punycode Host browsers send', async () => {
    const idn = mount({ '/': where('root'), 'http://Bücher.example/': where('books'), 'http://shop.café.example:8080/': where('cafe') });
    await withServer(idn, async (_url, port) => {
      expect(await seen(port, '/', { host: 'xn--bcher-kva.example' })).toMatchObject({ name: 'books' });
      expect(await seen(port, '/', { host: 'XN--BCHER-KVA.example.:9999' })).toMatchObject({ name: 'books' });
      expect(await seen(port, '/', { host: 'shop.xn--caf-dma.example:8080' })).toMatchObject({ name: 'cafe' });
      expect(await seen(port, '/', { host: 'shop.xn--caf-dma.example' })).toMatchObject({ name: 'root' });
    });
  });

  it('matches an IPv6 host key in any of its written forms, on a Host in any of its forms', async () => {
    // RFC 5952 gives each address one text form (lower case, zeros compressed); RFC 4291 §2.2
    // lets it be written in many, and each names the same host.
    const ipv6 = mount({
      '/': where('root'),
      'http://[0:0::2]/': where('two'),
      'http://[2001:DB8:0000:0:0:0:0:00AB]:8080/': where('ab-8080'),
      'http://127.0.0.1/': where('v4'),
      'http://Name.Example/': where('name'),
    });
    await withServer(ipv6, async (_url, port) => {
      for (const host of ['[::2]', '[0:0::2]:9999', '[0000:0000:0000:0000:0000:0000:0000:0002]', '[::0.0.0.2]']) {
        expect([host, (await seen(port, '/', { host })).name]).toEqual([host, 'two']);
      }
      for (const host of ['[2001:db8::ab]:8080', '[2001:DB8::AB]:8080', '[2001:db8:0:0::00ab]:8080']) {
        expect([host, (await seen(port, '/', { host })).name]).toEqual([host, 'ab-8080']);
      }
      expect(await seen(port, '/', { host: '[2001:db8::ab]:8081' })).toMatchObject({ name: 'root' });
      expect(await seen(port, '/', { host: '[::3]' })).toMatchObject({ name: 'root' });
      // IPv4 addresses and names are compared as before: names in any case.
      expect(await seen(port, '/', { host: '127.0.0.1:8000' })).toMatchObject({ name: 'v4' });
      expect(await seen(port, '/', { host: 'NAME.example' })).toMatchObject({ name: 'name' });
    });
    // Two forms of one address are one mount point; an address that is none is refused.
    expect(() => mount({ 'http://[::2]/': where('a'), 'http://[0:0::2]/': where('b') })).toThrow(/same mount point/);
    for (const key of ['http://[::1::2]/', 'http://[12345::1]/', 'http://[::g]/', 'http://[::1/', 'http://[]/', 'http://::1/']) {
      expect(() => mount({ [key]: where('a') }), key).toThrow(/invalid host/);
    }
  });

  it('prefers a key with a port to the same host without one, whatever their order', async () => {
    for (const order of ['port last', 'port first'] as const) {
      const keys: Array<[string, App]> = [
        ['http://x.example.com/', where('any-port')],
        ['http://x.example.com:8080/', where('8080')],
      ];
      const app = mount(order === 'port last' ? keys : keys.reverse());
      await withServer(app, async (_url, port) => {
        expect(await seen(port, '/', { host: 'x.example.com:8080' }), order).toMatchObject({ name: '8080' });
        expect(await seen(port, '/', { host: 'x.example.com:9090' }), order).toMatchObject({ name: 'any-port' });
      });
    }
    // The port's key goes first even against a longer prefix for any port (nginx: server, then location).
    const app = mount({ 'http://x.example.com/api': where('any-port-api'), 'http://x.example.com:8080/': where('8080') });
    await withServer(app, async (_url, port) => {
      expect(await seen(port, '/api/1', { host: 'x.example.com:8080' })).toMatchObject({ name: '8080', path: '/api/1' });
      expect(await seen(port, '/api/1', { host: 'x.example.com:9090' })).toMatchObject({ name: 'any-port-api', path: '/1' });
    });
  });

  it('nests: the inner mount sees the path below the outer prefix', async () => {
    const nested = lint(mount({ '/api': lint(mount({ '/v1': where('v1'), '/v2/': where('v2') })), '/': where('root') }));
    await withServer(nested, async (_url, port) => {
      expect(await seen(port, '/api/v1/users/7')).toMatchObject({ name: 'v1', script: '/api/v1', path: '/users/7' });
      expect(await seen(port, '/api/v2')).toMatchObject({ name: 'v2', script: '/api/v2', path: '' });
      expect((await raw(port, '/api/v3')).status).toBe(404);
    });
  });

  it('keeps a SCRIPT_NAME set outside (baseUrl) and adds to it', async () => {
    const res = await Request.blank('/blog/post', { baseUrl: 'https://example.com/site' }).getResponse(app);
    await res.bytes();
    expect((await res.json())).toMatchObject({ script: '/site/blog', path: '/post', appUrl: 'https://example.com/site/blog' });
  });

  it('lets a mounted app build correct redirects with applicationUrl', async () => {
    const blog = Request.application((req) => {
      if (req.pathInfo === '') return new HTTPFound(`${req.applicationUrl}/`);
      return new HTTPFound(req.relativeUrl('login', true));
    });
    await withServer(mount({ '/blog': blog }), async (url) => {
      const bare = await fetch(`${url}/blog`, { redirect: 'manual' });
      expect(bare.headers.get('location')).toBe(`${url}/blog/`);
      const deep = await fetch(`${url}/blog/a/b`, { redirect: 'manual' });
      expect(deep.headers.get('location')).toBe(`${url}/blog/login`);
    });
  });

  it('takes AppLike values and Map / pair lists', async () => {
    const fixed = mount(
      new Map<string, AppLike>([
        ['/r', new Response('a response')],
        ['/gone', new HTTPGone()],
      ]),
    );
    expect((await (await Request.blank('/r').getResponse(fixed)).text())).toBe('a response');
    expect((await Request.blank('/gone/x').getResponse(fixed)).statusCode).toBe(410);
  });

  it('normalises keys and refuses bad ones', () => {
    expect(() => mount({ '/blog': where('a'), '/blog/': where('b') })).toThrow(/same mount point/);
    expect(() => mount({ '/': where('a'), '': where('b') })).toThrow(/same mount point/);
    expect(() => mount({ blog: where('a') })).toThrow(/must start with/);
    // Express's `app.use('api', …)` habit: the message gives the key to write.
    expect(() => mount({ 'api/v1': where('a') })).toThrow('mount: keys must start with "/" or "http://" / "https://" (got "api/v1": write "/api/v1")');
    expect(() => mount({ 'ftp://x/': where('a') })).toThrow(/\(got "ftp:\/\/x\/"\)$/);
    expect(() => mount({ 'ftp://x/': where('a') })).toThrow(/must start with/);
    expect(() => mount({ 'http:///x': where('a') })).toThrow(/invalid host/);
    expect(() => mount({ 'http://x:abc/': where('a') })).toThrow(/invalid host/);
    expect(() => mount({ 'http://user@x/': where('a') })).toThrow(/invalid host/);
    // Express's vhost('*.example.com') habit: a host key names one host, which no Host could match.
    expect(() => mount({ 'http://*.example.com/': where('a') })).toThrow(
      'mount: a host key names one host, not a pattern (got "http://*.example.com/"): for every subdomain, find the tenant from req.hostname in a middleware (docs/routing.md#a-tenant-per-host)',
    );
    expect(() => mount({ 'http://exa_mple|.com/': where('a') })).toThrow(/invalid host/);
    // Hono's app.use('/api/*', …) and app.route('/users/:id', …), Express's '/files/*': a key is a
    // plain prefix, so '/api/*' matched only a path holding a literal '*' (every /api/x a silent 404).
    expect(() => mount({ '/api/*': where('a') })).toThrow(
      'mount: a key is a path prefix, not a pattern (got "/api/*"): write "/api", which takes /api and every path below it; route the rest with a RouteMap',
    );
    expect(() => mount({ '/users/:id/posts': where('a') })).toThrow(/\(got "\/users\/:id\/posts"\): write "\/users", which/);
    expect(() => mount({ 'http://api.example.com/v1/*': where('a') })).toThrow(/not a pattern \(got "http:\/\/api\.example\.com\/v1\/\*"\): write "http:\/\/api\.example\.com\/v1"/);
    expect(() => mount({ '*': where('a') })).toThrow(/must start with/);
    // Express 4's '/flights/:from-:to' and '/:id?', Express 5's '/posts{/:id}' and '/files/*path'.
    expect(() => mount({ '/flights/:from-:to': where('a') })).toThrow(/\(got "\/flights\/:from-:to"\): write "\/flights", which/);
    expect(() => mount({ '/posts{/:id}': where('a') })).toThrow(/\(got "\/posts\{\/:id\}"\): write "\/posts", which/);
    expect(() => mount({ '/files/*path': where('a') })).toThrow(/\(got "\/files\/\*path"\): write "\/files", which/);
    expect(() => mount({ '/:id?': where('a') })).toThrow(/\(got "\/:id\?"\): write "\/", which/);
    expect(mount({ '/a:b/c*d': where('a') })).toBeTypeOf('function'); // a ':' or '*' inside a segment is text
    expect(mount({ '/a{b}': where('a') })).toBeTypeOf('function'); // so is a '{' holding no parameter
    expect(() => mount({ '/a': 42 as never })).toThrow(/not an app/);
    expect(() => mount({ '//a//b//': where('a'), '/a/b': where('b') })).toThrow(/same mount point/);
  });
});

describe('a mount key with a query or a fragment', () => {
  // PATH_INFO holds neither: such a key matched only a path with an encoded %3F or %23, every
  // request it was meant for a silent 404. RouteMap refuses such a rule with the same words.
  it('is a TypeError at mount(...), naming the key and the prefix to write', () => {
    expect(() => mount({ '/search?q=1': where('a') })).toThrow(
      new TypeError(`mount: a key is matched against the path alone (got "/search?q=1"), which holds no query: the '?' would match only an encoded %3F in the path: write "/search", and read the query in the app with req.query`),
    );
    expect(() => mount({ '/docs#intro': where('a') })).toThrow(
      new TypeError(`mount: a key is matched against the path alone (got "/docs#intro"), and browsers send no fragment: the '#' would match only an encoded %23 in the path: write "/docs"`),
    );
    expect(() => mount({ 'http://api.example.com/v1?x': where('a') })).toThrow(/\(got "http:\/\/api\.example\.com\/v1\?x"\), which holds no query.*: write "http:\/\/api\.example\.com\/v1"/);
    expect(() => mount([['/', where('a')], ['/?', where('b')]])).toThrow(/\(got "\/\?"\).*: write "\/"/);
  });
});

describe('a mount key with a . or .. segment', () => {
  // Requests with dot segments are redirected to their clean form before matching, so such a
  // key matched no request: /docs/./api answered 308 to /docs/api, which it did not match either.
  it('is a TypeError at mount(...), naming the clean key to write; under cleanPaths: false it matches the raw path (socket)', async () => {
    expect(() => mount({ '/docs/./api': where('a') })).toThrow(
      new TypeError(`mount: a key is a clean path (got "/docs/./api"): requests with . or .. segments are redirected to their clean form before matching, so it would match none: write "/docs/api"`),
    );
    expect(() => mount({ '/a/b/..': where('a') })).toThrow(/\(got "\/a\/b\/\.\."\).*: write "\/a"/);
    expect(() => mount({ 'http://api.example.com/v1/../v2': where('a') })).toThrow(/: write "http:\/\/api\.example\.com\/v2"/);
    expect(() => mount({ '/..': where('a') })).toThrow(/: write "\/"/);
    expect(mount({ '/a.b/..c/.d': where('a') })).toBeTypeOf('function'); // dots inside a segment are text
    // Under cleanPaths: false the raw path is matched: such a key could match it, as written.
    await withServer(mount({ '/docs/./api': where('a') }, { cleanPaths: false }), async (_url, port) => {
      expect(await seen(port, '/docs/./api/x')).toMatchObject({ name: 'a', script: '/docs/./api', path: '/x' });
    });
  });
});

describe('mount and OPTIONS *', () => {
  const options = (port: number) => rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n').then(({ raw }) => parseRaw(raw));

  it('passes OPTIONS * to the root app unmounted: SCRIPT_NAME stays empty (no prefix applies to the server)', async () => {
    await withServer(mount({ '/': where('root'), '/api': where('api') }), async (_url, port) => {
      const res = await options(port);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.rest)).toMatchObject({ name: 'root', script: '', path: '*', url: 'http://h' });
    });
  });

  it('answers OPTIONS * 404 when no app is mounted at the root', async () => {
    await withServer(mount({ '/api': where('api') }), async (_url, port) => {
      expect((await options(port)).status).toBe(404);
    });
  });

  it('a RouteMap at the root answers OPTIONS * 404: no rule names the server, its catch-all included (Werkzeug\'s map reads * as /*); nor does the 204 of its OPTIONS', async () => {
    const routes = new RouteMap({ home: '/', note: { path: '/notes/<int:id>', methods: ['GET', 'PUT'] }, rest: '/<path:rest>' });
    const site = routes.app({ home: () => new Response('home'), note: () => new Response('note'), rest: () => new Response('rest') });
    for (const app of [site, mount({ '/': site, '/api': site }), mount({ 'http://h/': mount({ '/': site }) })]) {
      await withServer(app, async (_url, port) => {
        const res = await options(port);
        expect(res.status).toBe(404);
        expect(res.headers.some(([name]) => name.toLowerCase() === 'allow')).toBe(false);
      });
    }
  });

  it('the outermost app answers OPTIONS * itself when it wants to (200 with Allow), before mount', async () => {
    const site = mount({ '/': where('root'), '/api': where('api') });
    const app: App = (environ, startResponse) => {
      if (environ.REQUEST_METHOD === 'OPTIONS' && environ.PATH_INFO === '*') {
        startResponse('200 OK', [['Allow', 'GET, HEAD, OPTIONS, POST'], ['Content-Length', '0']]);
        return [];
      }
      return site(environ, startResponse);
    };
    await withServer(app, async (_url, port) => {
      const res = await options(port);
      expect(res.status).toBe(200);
      expect(res.headers).toContainEqual(['Allow', 'GET, HEAD, OPTIONS, POST']);
    });
  });
});

describe('cleanPath', () => {
  it.each([
    ['', ''],
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a//b', '/a/b'],
    ['/a/./b/', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/a/b/../', '/a/'],
    ['/..', '/'],
    ['/../..//x', '/x'],
    ['/.hidden/..dots', '/.hidden/..dots'],
    ['*', '*'],
  ])('%j → %j', (input, output) => {
    expect(cleanPath(input)).toBe(output);
  });
});
