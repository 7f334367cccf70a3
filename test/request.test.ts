import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPBadRequest, HTTPContentTooLarge, HTTPException, HTTPUnsupportedMediaType, MultiDict, Request, Response, TSGI_VERSION, defineMiddleware } from 'tsgi';
import { splitHost } from 'tsgi/http';
import { lint } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { BufferedInput } from '../src/gateway/input.ts';
import { rejection } from './helpers.ts';
import { request, start } from './node-helpers.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A minimal hand-made environ (no Host header unless given). */
function makeEnviron(extra: Partial<Environ> = {}): Environ {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'server.example',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': TSGI_VERSION,
    'tsgi.url_scheme': 'http',
    'tsgi.input': new BufferedInput(new Uint8Array(0)),
    'tsgi.errors': { write() {} },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    ...extra,
  };
}

/** A one-shot async input, like a live server's, counting the chunks pulled. */
function liveInput(chunks: string[], options: { failAfter?: number } = {}) {
  const state = { pulled: 0, finished: false };
  const input: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      try {
        for (const chunk of chunks) {
          if (options.failAfter !== undefined && state.pulled >= options.failAfter) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' }); // as Node's request stream
          state.pulled++;
          yield enc.encode(chunk);
        }
      } finally {
        state.finished = true;
      }
    },
  };
  return { input, state };
}

describe('Request: method and URL parts', () => {
  it('method and scheme read and write the environ', () => {
    const req = Request.blank('/');
    expect(req.method).toBe('GET');
    expect(req.scheme).toBe('http');
    req.method = 'POST';
    req.scheme = 'https';
    expect(req.environ.REQUEST_METHOD).toBe('POST');
    expect(req.environ['tsgi.url_scheme']).toBe('https');
    req.environ.REQUEST_METHOD = 'DELETE';
    expect(req.method).toBe('DELETE');
  });

  it('host is the Host header as sent; hostname strips the port; port is a number', () => {
    const req = new Request(makeEnviron({ HTTP_HOST: 'example.com:8080' }));
    expect(req.host).toBe('example.com:8080');
    expect(req.hostname).toBe('example.com');
    expect(req.port).toBe(8080);
    expect(req.hostUrl).toBe('http://example.com:8080');
  });

  it('IPv6 hosts keep their brackets: [::1]:8080 → [::1], 8080', () => {
    const req = new Request(makeEnviron({ HTTP_HOST: '[::1]:8080' }));
    expect(req.host).toBe('[::1]:8080');
    expect(req.hostname).toBe('[::1]');
    expect(req.port).toBe(8080);
    expect(req.url).toBe('http://[::1]:8080/');
    const noPort = new Request(makeEnviron({ HTTP_HOST: '[2001:db8::1]' }));
    expect(noPort.hostname).toBe('[2001:db8::1]');
    expect(noPort.port).toBe(80);
    expect(noPort.hostUrl).toBe('http://[2001:db8::1]');
  });

  it('without a Host header, uses SERVER_NAME and SERVER_PORT', () => {
    const req = new Request(makeEnviron({ SERVER_NAME: 'srv', SERVER_PORT: '8000' }));
    expect(req.host).toBe('srv:8000');
    expect(req.hostname).toBe('srv');
    expect(req.port).toBe(8000);
    expect(req.url).toBe('http://srv:8000/');
    const empty = new Request(makeEnviron({ HTTP_HOST: '', SERVER_NAME: 'srv', SERVER_PORT: '8000' }));
    expect(empty.host).toBe('srv:8000');
  });

  it('without a Host header, drops the default port of the scheme', () => {
    expect(new Request(makeEnviron({ SERVER_PORT: '80' })).host).toBe('server.example');
    const https = new Request(makeEnviron({ SERVER_PORT: '443', 'tsgi.url_scheme': 'https' }));
    expect(https.host).toBe('server.example');
    expect(https.port).toBe(443);
    expect(https.url).toBe('https://server.example/');
    const odd = new Request(makeEnviron({ SERVER_PORT: '443' }));
    expect(odd.host).toBe('server.example:443');
    expect(odd.url).toBe('http://server.example:443/');
  });

  it('without a Host header, brackets an IPv6 SERVER_NAME', () => {
    const req = new Request(makeEnviron({ SERVER_NAME: '::1', SERVER_PORT: '8080' }));
    expect(req.host).toBe('[::1]:8080');
    expect(req.hostname).toBe('[::1]');
    expect(req.port).toBe(8080);
    expect(req.hostUrl).toBe('http://[::1]:8080');
    const blank = Request.blank('http://[::1]:9000/x');
    delete blank.environ.HTTP_HOST;
    expect(blank.url).toBe('http://[::1]:9000/x');
  });

  it('the port falls back to the scheme default when the Host has none or a bad one', () => {
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com' })).port).toBe(80);
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com', 'tsgi.url_scheme': 'https' })).port).toBe(443);
    for (const host of ['example.com:abc', 'example.com:', 'example.com:99999', 'example.com:-1']) {
      const req = new Request(makeEnviron({ HTTP_HOST: host }));
      expect(req.port, host).toBe(80);
      expect(req.hostname, host).toBe('example.com');
      expect(req.hostUrl, host).toBe('http://example.com');
    }
    expect(new Request(makeEnviron({ SERVER_PORT: 'junk' })).port).toBe(80);
  });

  it('URLs drop :80 for http and :443 for https, and keep them otherwise', () => {
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com:80' })).url).toBe('http://example.com/');
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com:443', 'tsgi.url_scheme': 'https' })).url).toBe(
      'https://example.com/',
    );
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com:443' })).url).toBe('http://example.com:443/');
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com:80', 'tsgi.url_scheme': 'https' })).url).toBe(
      'https://example.com:80/',
    );
    // `host` itself stays as the client sent it.
    expect(new Request(makeEnviron({ HTTP_HOST: 'example.com:80' })).host).toBe('example.com:80');
  });

  it('host setter writes the Host header; the URL follows', () => {
    const req = Request.blank('/x');
    req.host = 'other.test:81';
    expect(req.environ.HTTP_HOST).toBe('other.test:81');
    expect(req.url).toBe('http://other.test:81/x');
    req.environ.HTTP_HOST = 'third.test';
    expect(req.hostname).toBe('third.test');
  });

  it('a subclass overriding host gets its port and URLs from that host, as hostname is', async () => {
    // The public host of an app behind a proxy that sends its own Host (docs/request.md: the
    // attributes that use an overridden one see the override).
    class PublicRequest extends Request {
      override get host(): string {
        return 'www.example.com:8443';
      }
    }
    const app = PublicRequest.application((req) => Response.json([req.hostname, req.port, req.hostUrl, req.url, req.relativeUrl('b')]));
    const server = await start(app, { host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/a?x=1`);
      expect(await res.json()).toEqual(['www.example.com', 8443, 'http://www.example.com:8443', 'http://www.example.com:8443/a?x=1', 'http://www.example.com:8443/b']);
    } finally {
      await server.close();
    }
    class Plain extends Request {
      override get host(): string {
        return 'www.example.com';
      }
    }
    const plain = new Plain(makeEnviron({ HTTP_HOST: 'localhost:8000' }));
    expect([plain.port, plain.url]).toEqual([80, 'http://www.example.com/']);
  });

  it('splitHost parses names, ports and IPv6 literals', () => {
    expect(splitHost('example.com')).toEqual(['example.com', null]);
    expect(splitHost('example.com:8080')).toEqual(['example.com', 8080]);
    expect(splitHost('[::1]')).toEqual(['[::1]', null]);
    expect(splitHost('[::1]:443')).toEqual(['[::1]', 443]);
    expect(splitHost('[::1]x')).toEqual(['[::1]', null]);
    expect(splitHost('example.com:65536')).toEqual(['example.com', null]);
    expect(splitHost('example.com:0')).toEqual(['example.com', 0]);
  });

  it('scriptName, pathInfo and queryString read and write the environ', () => {
    const req = Request.blank('/a?x=1', { baseUrl: 'http://h/app' });
    expect([req.scriptName, req.pathInfo, req.queryString]).toEqual(['/app', '/a', 'x=1']);
    req.scriptName = '/other';
    req.pathInfo = '/b';
    req.queryString = 'y=2';
    expect(req.environ.SCRIPT_NAME).toBe('/other');
    expect(req.environ.PATH_INFO).toBe('/b');
    expect(req.environ.QUERY_STRING).toBe('y=2');
    expect(req.url).toBe('http://h/other/b?y=2');
    const bare = new Request(makeEnviron());
    delete (bare.environ as Partial<Environ>).QUERY_STRING;
    expect(bare.queryString).toBe('');
  });

  it('path, pathQs, pathUrl, url and applicationUrl', () => {
    const req = Request.blank('/search?q=tsgi&page=2', { baseUrl: 'https://example.com:8443/app' });
    expect(req.hostUrl).toBe('https://example.com:8443');
    expect(req.applicationUrl).toBe('https://example.com:8443/app');
    expect(req.path).toBe('/app/search');
    expect(req.pathQs).toBe('/app/search?q=tsgi&page=2');
    expect(req.pathUrl).toBe('https://example.com:8443/app/search');
    expect(req.url).toBe('https://example.com:8443/app/search?q=tsgi&page=2');
    const noQuery = Request.blank('/a');
    expect(noQuery.pathQs).toBe('/a');
    expect(noQuery.url).toBe('http://localhost/a');
    expect(noQuery.applicationUrl).toBe('http://localhost');
  });

  it('a path without a leading / is taken from the root, alone, with a query, and under a mount point', () => {
    const req = Request.blank('a/b?x=1');
    expect(req.pathInfo).toBe('/a/b');
    expect(req.environ.REQUEST_URI).toBe('/a/b?x=1');
    expect(req.url).toBe('http://localhost/a/b?x=1');
    expect(Request.blank('a%20b').path).toBe('/a%20b');
    const mounted = Request.blank('x', { baseUrl: 'https://example.com/app' });
    expect([mounted.scriptName, mounted.pathInfo, mounted.url]).toEqual(['/app', '/x', 'https://example.com/app/x']);
  });

  it('%2F in the request path is decoded in PATH_INFO, and comes back as /', () => {
    const req = Request.blank('/files/a%2Fb');
    expect(req.pathInfo).toBe('/files/a/b');
    expect(req.environ.REQUEST_URI).toBe('/files/a%2Fb');
    expect(req.path).toBe('/files/a/b');
  });

  it('UTF-8 and reserved characters in paths are quoted in path, url and applicationUrl', () => {
    const req = Request.blank('/caf%C3%A9/a%20b/100%25/q%3F/h%23', { baseUrl: 'http://h/my%20app/%E2%82%AC' });
    expect(req.scriptName).toBe('/my app/€');
    expect(req.pathInfo).toBe('/café/a b/100%/q?/h#');
    expect(req.applicationUrl).toBe('http://h/my%20app/%E2%82%AC');
    expect(req.path).toBe('/my%20app/%E2%82%AC/caf%C3%A9/a%20b/100%25/q%3F/h%23');
    expect(req.url).toBe(`http://h${req.path}`);
  });

  it('keeps RFC 3986 sub-delims, ":" and "@" unquoted in paths', () => {
    const req = new Request(makeEnviron({ HTTP_HOST: 'h', PATH_INFO: "/a;b=c,d:e@f!$&'()*+~._-" }));
    expect(req.path).toBe("/a;b=c,d:e@f!$&'()*+~._-");
  });

  it('quotes a lone surrogate as U+FFFD instead of throwing', () => {
    const req = new Request(makeEnviron({ HTTP_HOST: 'h', PATH_INFO: '/x\uD800' }));
    expect(req.path).toBe('/x%EF%BF%BD');
  });

  it('quotes a query character outside the BMP (an emoji) in url and pathQs instead of throwing URIError', () => {
    const req = Request.blank('/s?q=😀&r=日&s=\uD800');
    expect(req.url).toBe('http://localhost/s?q=%F0%9F%98%80&r=%E6%97%A5&s=%EF%BF%BD');
    expect(req.pathQs).toBe('/s?q=%F0%9F%98%80&r=%E6%97%A5&s=%EF%BF%BD');
    expect(new URL(req.url).searchParams.get('q')).toBe('😀');
  });

  it('query parses empty and repeated keys: a=&b&a=2', () => {
    const req = Request.blank('/?a=&b&a=2');
    expect(req.query).toBeInstanceOf(MultiDict);
    expect(req.query.getAll('a')).toEqual(['', '2']);
    expect(req.query.get('a')).toBe('');
    expect(req.query.get('b')).toBe('');
    expect(req.query.has('c')).toBe(false);
  });

  it('query never throws on malformed escapes', () => {
    const req = Request.blank('/?a=%zz&b=%FF');
    expect(req.query.get('a')).toBe('%zz');
    expect(req.query.get('b')).toBe('\uFFFD');
  });

  it('query is live: re-parsed after QUERY_STRING changes, written back when changed', () => {
    const req = Request.blank('/?a=1');
    const first = req.query;
    expect(req.query).toBe(first);
    req.environ.QUERY_STRING = 'a=2';
    expect(req.query.get('a')).toBe('2');
    req.query.add('b', 'x y');
    expect(req.environ.QUERY_STRING).toBe('a=2&b=x+y');
    req.query.set('a', '3');
    expect(req.queryString).toBe('a=3&b=x+y');
    req.query.delete('b');
    expect(req.queryString).toBe('a=3');
    expect(new Request(req.environ).query.get('a')).toBe('3');
    expect(req.url).toBe('http://localhost/?a=3');
  });

  it('a change to query keeps the other pairs as sent: a Shift_JIS value survives a layer that drops utm_source', async () => {
    // A GET form from a Shift_JIS page sends its escapes in Shift_JIS (東京: %93%8C%8B%9E), which
    // the app reads with MultiDict.fromQueryString(req.queryString, 'shift_jis'), as docs/forms.md says.
    const stripTracking = defineMiddleware({
      before(req) {
        req.query.delete('utm_source');
      },
    });
    const app = stripTracking(Request.application((req) => Response.json([req.queryString, MultiDict.fromQueryString(req.queryString, 'shift_jis').toJSON()])));
    const server = await start(app, { host: '127.0.0.1' });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/s?q=%93%8C%8B%9E&utm_source=mail&page=%201&c=%zz`);
      expect(await res.json()).toEqual(['q=%93%8C%8B%9E&page=%201&c=%zz', { q: ['東京'], page: [' 1'], c: ['%zz'] }]);
    } finally {
      await server.close();
    }
    // A pair changed or added is encoded; the others keep their text, in their order.
    const req = Request.blank('/?a=%E6%97%A5&b=%FF&a=x%20y');
    req.query.set('b', 'é');
    req.query.add('c', 'd e');
    expect(req.queryString).toBe('a=%E6%97%A5&b=%C3%A9&a=x%20y&c=d+e');
    req.query.delete('a');
    expect(req.queryString).toBe('b=%C3%A9&c=d+e');
  });

  describe('relativeUrl', () => {
    const req = Request.blank('/dir/page?x=1', { baseUrl: 'http://example.com/app' });

    it('resolves against pathUrl by default', () => {
      expect(req.relativeUrl('other')).toBe('http://example.com/app/dir/other');
      expect(req.relativeUrl('../up')).toBe('http://example.com/app/up');
      expect(req.relativeUrl('/root')).toBe('http://example.com/root');
      expect(req.relativeUrl('?y=2')).toBe('http://example.com/app/dir/page?y=2');
      expect(req.relativeUrl('https://elsewhere.test/z')).toBe('https://elsewhere.test/z');
    });

    it('resolves against applicationUrl + "/" with toApplication', () => {
      expect(req.relativeUrl('other', true)).toBe('http://example.com/app/other');
      expect(req.relativeUrl('a/b', true)).toBe('http://example.com/app/a/b');
      expect(Request.blank('/x/y').relativeUrl('z', true)).toBe('http://localhost/z');
      expect(Request.blank('/x', { baseUrl: 'http://h/app/' }).relativeUrl('z', true)).toBe('http://h/app/z');
    });

    it('answers 400 naming the value for a target no URL can be made of (a ?next= from the client), as the redirects do, not a 500 (socket)', async () => {
      const app = Request.application((req) => Response.json(req.relativeUrl(req.query.get('next') ?? '')));
      const server = await start(app);
      for (const next of ['http://[', '//[', 'https://example.com:99999/']) {
        const res = await request(`${server.url}/?next=${encodeURIComponent(next)}`);
        expect(res.status, next).toBe(400);
        expect(res.body.toString(), next).toContain(`Refused URL ${JSON.stringify(next)}: not a URL.`);
      }
      expect(server.log.text).toBe('');
      const ok = await request(`${server.url}/a/b?next=${encodeURIComponent('../c?d=1')}`);
      expect(JSON.parse(ok.body.toString())).toBe(`${server.url}/c?d=1`);
      expect(() => req.relativeUrl('http://[')).toThrow(HTTPBadRequest);
    });
  });

  describe('pathInfoPeek and pathInfoPop', () => {
    it('peek answers the next segment without moving it', () => {
      const req = Request.blank('/a/b');
      expect(req.pathInfoPeek()).toBe('a');
      expect(req.pathInfo).toBe('/a/b');
      expect(Request.blank('//x//y').pathInfoPeek()).toBe('x');
      const empty = Request.blank('/');
      empty.pathInfo = '';
      expect(empty.pathInfoPeek()).toBeNull();
    });

    it('pop moves one segment from PATH_INFO to SCRIPT_NAME', () => {
      const req = Request.blank('/a/b/c');
      expect(req.pathInfoPop()).toBe('a');
      expect([req.scriptName, req.pathInfo]).toEqual(['/a', '/b/c']);
      expect(req.pathInfoPop()).toBe('b');
      expect(req.pathInfoPop()).toBe('c');
      expect([req.scriptName, req.pathInfo]).toEqual(['/a/b/c', '']);
      expect(req.pathInfoPop()).toBeNull();
      expect(req.environ.SCRIPT_NAME).toBe('/a/b/c');
      expect(req.url).toBe('http://localhost/a/b/c');
    });

    it('pop moves multiple slashes along with the segment', () => {
      const req = Request.blank('//a//b/');
      expect(req.pathInfoPop()).toBe('a');
      expect([req.scriptName, req.pathInfo]).toEqual(['//a', '//b/']);
      expect(req.pathInfoPop()).toBe('b');
      expect([req.scriptName, req.pathInfo]).toEqual(['//a//b', '/']);
      expect(req.pathInfoPop()).toBeNull(); // slashes only: SCRIPT_NAME keeps no trailing slash
      expect([req.scriptName, req.pathInfo]).toEqual(['//a//b', '/']);
    });

    it('peek and pop find no segment in a PATH_INFO of slashes only: SCRIPT_NAME never gets a trailing slash', async () => {
      const show: App = (environ, start) => {
        start('200 OK', [['Content-Type', 'text/plain']]);
        return [new TextEncoder().encode(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
      };
      const popAll = Request.application((req) => {
        let popped = 0;
        while (req.pathInfoPop() !== null && popped < 5) popped++;
        return req.getResponse(lint(show)); // lint checks the environ the app below gets (spec §2.1)
      });
      const client = new TestClient(popAll);
      expect((await client.get('/')).textBody).toBe('|/');
      expect((await client.get('/x/')).textBody).toBe('/x|/');
      expect((await client.get('//a//b//')).textBody).toBe('//a//b|//');
      expect(Request.blank('/').pathInfoPeek()).toBeNull();
    });

    it('peek and pop find no segment in the * of OPTIONS *, which keeps SCRIPT_NAME empty', () => {
      const req = new Request(makeEnviron({ REQUEST_METHOD: 'OPTIONS', PATH_INFO: '*' }));
      expect(req.pathInfoPeek()).toBeNull();
      expect(req.pathInfoPop()).toBeNull();
      expect(req.pathInfoPop(/.*/)).toBeNull();
      expect([req.scriptName, req.pathInfo]).toEqual(['', '*']);
    });

    it('pop with a pattern moves only a matching segment', () => {
      const req = Request.blank('/123/abc');
      expect(req.pathInfoPop(/^\d+$/)).toBe('123');
      expect(req.pathInfoPop(/^\d+$/)).toBeNull();
      expect([req.scriptName, req.pathInfo]).toEqual(['/123', '/abc']);
      const global = /^[a-z]+$/g;
      const twice = Request.blank('/ab/cd');
      expect(twice.pathInfoPop(global)).toBe('ab');
      expect(twice.pathInfoPop(global)).toBe('cd');
    });
  });
});

describe('Request: headers', () => {
  it('headers is a case-insensitive live view', () => {
    const req = Request.blank('/', { headers: { 'X-Token': 'abc' } });
    expect(req.headers.get('x-token')).toBe('abc');
    expect(req.headers.get('X-TOKEN')).toBe('abc');
    expect(req.headers).toBe(req.headers);
    req.headers.set('X-Added', '1');
    expect(req.environ.HTTP_X_ADDED).toBe('1');
    req.environ.HTTP_X_TOKEN = 'changed';
    expect(req.headers.get('x-token')).toBe('changed');
    expect(new Request(req.environ).headers.get('x-added')).toBe('1');
  });

  it('headers with "_" in the name are not found', () => {
    const req = Request.blank('/', { headers: { 'X-Forwarded-For': '1.2.3.4' } });
    expect(req.headers.get('X_Forwarded_For')).toBeNull();
    expect(req.headers.get('x-forwarded-for')).toBe('1.2.3.4');
  });

  it('contentType drops parameters and lower-cases; charset reads the parameter', () => {
    const req = Request.blank('/', { headers: { 'Content-Type': 'Text/HTML; Charset="ISO-8859-1"' } });
    expect(req.contentType).toBe('text/html');
    expect(req.charset).toBe('iso-8859-1');
  });

  it('charset defaults to utf-8 without a charset parameter or Content-Type', () => {
    expect(Request.blank('/', { headers: { 'Content-Type': 'text/plain' } }).charset).toBe('utf-8');
    const none = Request.blank('/');
    expect(none.contentType).toBe('');
    expect(none.charset).toBe('utf-8');
  });

  it('a malformed Content-Type never throws', () => {
    const cases: Array<[string, string, string]> = [
      ['text/html; charset', 'text/html', 'utf-8'],
      ['text/plain; charset=latin1; junk', 'text/plain', 'latin1'],
      ['text/plain;;charset=koi8-r', 'text/plain', 'koi8-r'],
      ['garbage', '', 'utf-8'], // not a media type: '' as docs/request.md says
      [';;;', '', 'utf-8'],
      ['text/plain; charset="unterminated', 'text/plain', 'utf-8'],
      ['TEXT/PLAIN ; a=b c', 'text/plain', 'utf-8'],
      // a repeated parameter: the first one counts, whether the rest is well-formed or not
      ['text/plain; charset=latin1; charset=koi8-r', 'text/plain', 'latin1'],
      ['text/plain; CHARSET="latin1"; charset=koi8-r; junk', 'text/plain', 'latin1'],
      ['text/plain; x="a;charset=koi8-r"; charset=latin1; junk', 'text/plain', 'latin1'],
      ['text/plain; x="a;b; charset=latin1', 'text/plain', 'utf-8'],
    ];
    for (const [header, type, charset] of cases) {
      const req = Request.blank('/', { headers: { 'Content-Type': header } });
      expect(req.contentType, header).toBe(type);
      expect(req.charset, header).toBe(charset);
    }
  });

  it('contentType setter keeps the parameters; charset setter keeps the type', () => {
    const req = Request.blank('/', { headers: { 'Content-Type': 'text/plain; charset=latin1' } });
    req.contentType = 'text/csv';
    expect(req.environ.CONTENT_TYPE).toBe('text/csv; charset=latin1');
    req.contentType = 'application/json; x=1';
    expect(req.environ.CONTENT_TYPE).toBe('application/json; x=1');
    req.charset = 'utf-16';
    expect(req.environ.CONTENT_TYPE).toBe('application/json; charset=utf-16; x=1');
    expect(req.contentType).toBe('application/json');
    req.contentType = null;
    expect('CONTENT_TYPE' in req.environ).toBe(false);
    req.charset = 'utf-8';
    expect(req.environ.CONTENT_TYPE).toBe('text/plain; charset=utf-8');
    req.contentType = '';
    expect(req.environ.CONTENT_TYPE).toBeUndefined();
    expect(() => {
      req.contentType = 'not a type';
    }).toThrow(TypeError);
  });

  it('contentLength parses digits only; the setter validates and writes through', () => {
    const req = Request.blank('/', { body: 'hello' });
    expect(req.contentLength).toBe(5);
    for (const bad of ['', 'abc', '-1', ' 5', '5 ', '1e3', '0x10', '1.5']) {
      req.environ.CONTENT_LENGTH = bad;
      expect(req.contentLength, JSON.stringify(bad)).toBeNull();
    }
    req.contentLength = 0;
    expect(req.environ.CONTENT_LENGTH).toBe('0');
    req.contentLength = null;
    expect('CONTENT_LENGTH' in req.environ).toBe(false);
    expect(req.contentLength).toBeNull();
    expect(() => {
      req.contentLength = -1;
    }).toThrow(TypeError);
    expect(() => {
      req.contentLength = 1.5;
    }).toThrow(TypeError);
    expect(() => {
      req.contentLength = Number.NaN;
    }).toThrow(TypeError);
  });

  it('typed setters of a request field refuse what headers.set refuses, with its error', () => {
    type Settable = 'host' | 'accept' | 'acceptLanguage' | 'acceptEncoding' | 'acceptCharset' | 'ifMatch' | 'ifNoneMatch' | 'ifRange' | 'range' | 'authorization';
    const fields: Array<[Settable, string]> = [
      ['host', 'Host'], ['accept', 'Accept'], ['acceptLanguage', 'Accept-Language'], ['acceptEncoding', 'Accept-Encoding'],
      ['acceptCharset', 'Accept-Charset'], ['ifMatch', 'If-Match'], ['ifNoneMatch', 'If-None-Match'], ['ifRange', 'If-Range'], ['range', 'Range'],
    ];
    for (const bad of ['a\r\nX-Injected: 1', 'a\nb', 'a\0b', 'a\x7fb', '\u20ac']) {
      for (const [setter, name] of fields) {
        const req = Request.blank('/', { headers: { [name]: 'before' } });
        expect(() => req.headers.set(name, bad), name).toThrow(new TypeError(`invalid value for header ${name}: ${JSON.stringify(bad)}`));
        expect(() => {
          req[setter] = bad;
        }, setter).toThrow(new TypeError(`invalid value for header ${name}: ${JSON.stringify(bad)}`));
        expect(req.headers.get(name), setter).toBe('before');
      }
      // A credential is not quoted in the message, as headers.set words it.
      const req = Request.blank('/');
      expect(() => {
        req.authorization = `Bearer ${bad}`;
      }).toThrow(new TypeError(`invalid value for header Authorization (${7 + bad.length} characters, not shown): U+${bad.charCodeAt(bad.search(/[^\t\x20-\x7e\x80-\xff]/)).toString(16).toUpperCase().padStart(4, '0')} at ${7 + bad.search(/[^\t\x20-\x7e\x80-\xff]/)}`));
      expect(req.environ.HTTP_AUTHORIZATION).toBeUndefined();
    }
    // What a field may hold is still taken: HTAB, obs-text, and null removes the field.
    const req = Request.blank('/');
    req.accept = 'text/html,\tcaf\xe9/x';
    expect(req.environ.HTTP_ACCEPT).toBe('text/html,\tcaf\xe9/x');
    req.accept = null;
    expect(req.environ.HTTP_ACCEPT).toBeUndefined();
    req.host = 'example.com:8080';
    expect(req.host).toBe('example.com:8080');
    // The live Cache-Control writes through the same check (its own setters refuse first).
    req.cacheControl.maxAge = 5;
    expect(req.environ.HTTP_CACHE_CONTROL).toBe('max-age=5');
    // REMOTE_USER is no header field: written as given.
    req.remoteUser = 'ann';
    expect(req.remoteUser).toBe('ann');
  });

  describe('cookies', () => {
    const cookies = (header: string) => Request.blank('/', { headers: { Cookie: header } }).cookies;

    it('reads raw UTF-8 bytes in a cookie as UTF-8 (as browsers send them), and other bytes one character per byte', () => {
      // The header as the server gives it: one character per byte.
      expect(cookies('name=Jos\xc3\xa9 \xe2\x98\x83; b=2').name).toBe('José ☃');
      expect(cookies('name=caf\xe9').name).toBe('caf\xe9'); // latin1, not UTF-8: kept
      expect(cookies('name=%C3%A9').name).toBe('é');
    });

    it('reads each cookie\'s bytes on its own: one in another charset leaves the UTF-8 of the others', () => {
      const c = cookies('legacy=caf\xe9; name=Jos\xc3\xa9; caf\xc3\xa9=1; caf\xe9=2; \xc3\xa9=first; \xe9=second');
      expect(c.legacy).toBe('caf\xe9'); // latin1, not UTF-8: kept
      expect(c.name).toBe('José');
      expect(c['café']).toBe('1'); // a name in UTF-8
      expect(c['caf\xe9']).toBe('1'); // the same string: the first one sent wins
      expect(Object.keys(c)).toEqual(['legacy', 'name', 'café', 'é']);
      expect(c['é']).toBe('first');
    });

    it('parses plain cookies, and is empty without a Cookie header', () => {
      expect({ ...cookies('a=1; b=2') }).toEqual({ a: '1', b: '2' });
      expect(Object.keys(Request.blank('/').cookies)).toEqual([]);
    });

    it('unquotes quoted values and undoes escapes inside them', () => {
      expect(cookies('a="hello world"').a).toBe('hello world');
      expect(cookies('a="x\\"y"').a).toBe('x"y');
      expect(cookies('a="a\\054b\\073c"').a).toBe('a,b;c');
      expect(cookies('a=""').a).toBe('');
      expect(cookies('a="').a).toBe('"');
      expect(cookies('a=x"y"').a).toBe('x"y"');
    });

    it('percent-decodes, keeping malformed escapes as sent', () => {
      expect(cookies('a=caf%C3%A9; b=%zz; c=100%; d=%FF').a).toBe('café');
      const odd = cookies('b=%zz; c=100%; d=%FF');
      expect(odd.b).toBe('%zz');
      expect(odd.c).toBe('100%');
      expect(odd.d).toBe('%FF');
    });

    it('first of duplicates wins; = stays in the value; empty values are kept', () => {
      const c = cookies('a=first; a=second; b=x=y==; e=; f');
      expect(c.a).toBe('first');
      expect(c.b).toBe('x=y==');
      expect(c.e).toBe('');
      expect('f' in c).toBe(false);
    });

    it('survives junk: stray separators, spaces, names without values', () => {
      const c = cookies(';; ; junk ;  a = 1 ;b=2;;');
      expect(c.a).toBe('1');
      expect(c.b).toBe('2');
      expect('junk' in c).toBe(false);
    });

    it('cannot be polluted through __proto__', () => {
      const c = cookies('__proto__=x; constructor=y');
      expect(c['__proto__']).toBe('x');
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });

    it('follows the Cookie header live, and is frozen', () => {
      const req = Request.blank('/', { headers: { Cookie: 'a=1' } });
      const first = req.cookies;
      expect(req.cookies).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      req.headers.set('Cookie', 'a=2');
      expect(req.cookies.a).toBe('2');
    });

    it('joins several Cookie headers from Request.blank with "; "', () => {
      const req = Request.blank('/', {
        headers: [
          ['Cookie', 'a=1'],
          ['Cookie', 'b=2'],
        ],
      });
      expect(req.environ.HTTP_COOKIE).toBe('a=1; b=2');
      expect({ ...req.cookies }).toEqual({ a: '1', b: '2' });
    });
  });

  it('userAgent, referer, remoteAddr, remoteUser and signal', () => {
    const controller = new AbortController();
    const req = Request.blank('/', {
      headers: { 'User-Agent': 'curl/8', Referer: 'http://ref.test/' },
      environ: { 'tsgi.signal': controller.signal },
    });
    expect(req.userAgent).toBe('curl/8');
    expect(req.referer).toBe('http://ref.test/');
    expect(req.remoteAddr).toBe('127.0.0.1');
    expect(req.remoteUser).toBeNull();
    expect(req.signal).toBe(controller.signal);
    req.remoteAddr = '10.0.0.9';
    req.remoteUser = 'alice';
    expect(req.environ.REMOTE_ADDR).toBe('10.0.0.9');
    expect(req.environ.REMOTE_USER).toBe('alice');
    req.remoteAddr = null;
    req.remoteUser = null;
    expect('REMOTE_ADDR' in req.environ).toBe(false);
    expect('REMOTE_USER' in req.environ).toBe(false);
    const bare = new Request(makeEnviron());
    expect(bare.userAgent).toBeNull();
    expect(bare.referer).toBeNull();
    expect(bare.remoteAddr).toBeNull();
    // No server signal (Request.blank, a hand-built environ): one that never aborts, kept.
    expect(bare.signal).toBeInstanceOf(AbortSignal);
    expect(bare.signal.aborted).toBe(false);
    expect(bare.signal).toBe(bare.signal);
    expect(new Request(bare.environ).signal).toBe(bare.signal);
  });

  it('keeps the environ it wraps', () => {
    const environ = makeEnviron();
    expect(new Request(environ).environ).toBe(environ);
  });
});

describe('Request: body', () => {
  it('isBodyReadable: a Content-Length other than 0, or a chunked body, or tsgi.input_terminated (WebOb)', () => {
    const readable = (extra: Partial<Environ>): boolean => new Request(makeEnviron(extra)).isBodyReadable;
    expect(readable({})).toBe(false);
    expect(readable({ CONTENT_LENGTH: '0' })).toBe(false);
    expect(readable({ CONTENT_LENGTH: '12' })).toBe(true);
    expect(readable({ HTTP_TRANSFER_ENCODING: 'chunked' })).toBe(true);
    expect(readable({ 'tsgi.input_terminated': true })).toBe(true);
    expect(readable({ CONTENT_LENGTH: '0', 'tsgi.input_terminated': true })).toBe(false);
    expect(Request.blank('/', { method: 'POST', body: 'x' }).isBodyReadable).toBe(true);
    expect(Request.blank('/').isBodyReadable).toBe(false);
  });

  it('stream() yields the input chunks unbuffered', async () => {
    const { input, state } = liveInput(['ab', 'cd']);
    const req = new Request(makeEnviron({ 'tsgi.input': input }));
    const iterator = req.stream()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(dec.decode(first.value)).toBe('ab');
    expect(state.pulled).toBe(1);
  });

  it('bytes() reads the body; twice gives the same bytes', async () => {
    const { input, state } = liveInput(['hel', 'lo']);
    const req = new Request(makeEnviron({ 'tsgi.input': input }));
    const a = await req.bytes();
    const b = await req.bytes();
    expect(dec.decode(a)).toBe('hello');
    expect(b).toEqual(a);
    expect(state.pulled).toBe(2);
  });

  it('after reading, the next reader over the same environ gets the same bytes', async () => {
    const { input } = liveInput(['{"a":', '1}']);
    const environ = makeEnviron({ 'tsgi.input': input, CONTENT_TYPE: 'application/json' });
    expect(await new Request(environ).json()).toEqual({ a: 1 });
    expect(environ['tsgi.input']).toBeInstanceOf(BufferedInput);
    const next = new Request(environ);
    expect(await next.text()).toBe('{"a":1}');
    const chunks: string[] = [];
    for await (const chunk of next.stream()) chunks.push(dec.decode(chunk));
    expect(chunks.join('')).toBe('{"a":1}');
    for await (const chunk of environ['tsgi.input']) chunks.push(dec.decode(chunk));
    expect(chunks.join('')).toBe('{"a":1}{"a":1}');
  });

  it('an environ without tsgi.input reads as an empty body', async () => {
    const environ = makeEnviron();
    delete (environ as Partial<Environ>)['tsgi.input'];
    const req = new Request(environ);
    expect((await req.bytes()).byteLength).toBe(0);
    expect(await req.text()).toBe('');
  });

  it('an environ without tsgi.input reads as an empty form too, urlencoded or multipart', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=XX']) {
      const environ = makeEnviron({ REQUEST_METHOD: 'POST', CONTENT_TYPE: type });
      delete (environ as Partial<Environ>)['tsgi.input'];
      const req = new Request(environ);
      expect([type, [...(await req.form())], [...(await req.files())]]).toEqual([type, [], []]);
      expect([...(await req.params())]).toEqual([]);
      expect((await req.bytes()).byteLength).toBe(0);
    }
  });

  it('maxBodySize: a declared Content-Length over it is refused (413) before reading', async () => {
    const { input, state } = liveInput(['x'.repeat(10)]);
    const req = new Request(makeEnviron({ 'tsgi.input': input, CONTENT_LENGTH: '10' }));
    const error = await rejection(req.bytes({ maxBodySize: 5 }));
    expect(error).toBeInstanceOf(HTTPContentTooLarge);
    expect((error as HTTPException).code).toBe(413);
    expect(state.pulled).toBe(0);
  });

  it('maxBodySize: an async input with no length is refused (413) while streaming', async () => {
    const { input, state } = liveInput(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']);
    const req = new Request(makeEnviron({ 'tsgi.input': input }));
    const error = await rejection(req.bytes({ maxBodySize: 10 }));
    expect(error).toBeInstanceOf(HTTPContentTooLarge);
    expect((error as Error).message).toMatch(/10 bytes/);
    expect(state.pulled).toBe(3);
    expect(state.finished).toBe(true);
  });

  it('maxBodySize: a body of exactly the limit is accepted; text/json/form take it too', async () => {
    const req = Request.blank('/', { body: 'abcde' });
    expect(dec.decode(await req.bytes({ maxBodySize: 5 }))).toBe('abcde');
    await expect(req.bytes({ maxBodySize: 4 })).rejects.toBeInstanceOf(HTTPContentTooLarge);
    await expect(req.text({ maxBodySize: 4 })).rejects.toBeInstanceOf(HTTPContentTooLarge);
    await expect(Request.blank('/', { json: [1, 2, 3] }).json({ maxBodySize: 3 })).rejects.toBeInstanceOf(HTTPContentTooLarge);
    await expect(Request.blank('/', { form: { a: 'long value' } }).form({ maxBodySize: 3 })).rejects.toBeInstanceOf(
      HTTPContentTooLarge,
    );
  });

  it('refuses the former option name `limit` rather than reading without a limit', async () => {
    const req = Request.blank('/', { method: 'POST', form: { a: 'long value' } });
    const former = { limit: 3 } as unknown as { maxBodySize?: number };
    await expect(req.bytes(former)).rejects.toThrow(TypeError);
    await expect(req.json(former)).rejects.toThrow(/maxBodySize/);
    await expect(req.form(former)).rejects.toThrow(/maxBodySize/);
    expect((await req.form()).get('a')).toBe('long value');
  });

  it('refuses a maxBodySize that is no size, which would lift the limit in silence (json() and text() default to 1 MiB)', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    for (const maxBodySize of ['10mb', Number.NaN, -1, null] as unknown as number[]) {
      const req = Request.blank('/', { method: 'POST', body: big });
      await expect(req.json({ maxBodySize })).rejects.toThrow(/maxBodySize must be a non-negative number of bytes/);
      await expect(req.text({ maxBodySize })).rejects.toThrow(TypeError);
      await expect(req.bytes({ maxBodySize })).rejects.toThrow(TypeError);
      expect(() => req.stream({ maxBodySize })).toThrow(TypeError);
      expect(await req.bytes()).toHaveLength(big.length); // the input is left whole
    }
  });

  it('a body that breaks off answers 400', async () => {
    const { input } = liveInput(['ab', 'cd', 'ef'], { failAfter: 1 });
    const req = new Request(makeEnviron({ 'tsgi.input': input }));
    const error = await rejection(req.bytes());
    expect(error).toBeInstanceOf(HTTPBadRequest);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('text() decodes with the charset; malformed bytes become U+FFFD', async () => {
    const latin = Request.blank('/', {
      body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      headers: { 'Content-Type': 'text/plain; charset=ISO-8859-1' },
    });
    expect(await latin.text()).toBe('café');
    const utf8 = Request.blank('/', { body: 'café €' });
    expect(await utf8.text()).toBe('café €');
    const broken = Request.blank('/', { body: new Uint8Array([0x61, 0xff, 0x62]) });
    expect(await broken.text()).toBe('a\uFFFDb');
  });

  it('text() answers 415 for a charset no decoder knows', async () => {
    const req = Request.blank('/', { body: 'x', headers: { 'Content-Type': 'text/plain; charset=klingon' } });
    await expect(req.text()).rejects.toBeInstanceOf(HTTPUnsupportedMediaType);
    const long = Request.blank('/', { body: 'x', headers: { 'Content-Type': `text/plain; charset=${'k'.repeat(3000)}` } });
    const error = (await rejection(long.text())) as HTTPException;
    expect(error.code).toBe(415);
    expect(error.message).toBe(`Unsupported charset: '${'k'.repeat(100)}…'`);
  });

  it('json() parses; bad, empty or non-UTF-8 JSON answers 400', async () => {
    expect(await Request.blank('/', { json: { a: [1, 'é'] } }).json()).toEqual({ a: [1, 'é'] });
    expect(await Request.blank('/', { body: '\uFEFF{"bom":true}' }).json()).toEqual({ bom: true });
    for (const body of ['{bad', '', '{"a":1}}', new Uint8Array([0x22, 0xff, 0x22])]) {
      const error = await rejection(Request.blank('/', { body }).json());
      expect(error, String(body)).toBeInstanceOf(HTTPBadRequest);
      expect((error as HTTPException).code).toBe(400);
    }
  });

  it('json() after a body cut in the middle of a character reads the next body whole', async () => {
    // The UTF-8 decoders are shared between requests: a failed decode must leave nothing behind.
    const cut = new Uint8Array([0x22, 0xe2, 0x82]); // `"` and the first two bytes of `€`
    expect(await rejection(Request.blank('/', { body: cut }).json())).toBeInstanceOf(HTTPBadRequest);
    expect(await Request.blank('/', { body: new Uint8Array([0xac, 0x22]) }).text()).toBe('\uFFFD"');
    expect(await Request.blank('/', { body: '"€"' }).json()).toBe('€');
  });

  it('form() parses urlencoded bodies into a MultiDict', async () => {
    const req = Request.blank('/', {
      method: 'POST',
      body: 'a=1&b=x+y&a=2&c=caf%C3%A9&d=&e',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    const form = await req.form();
    expect(form).toBeInstanceOf(MultiDict);
    expect(form.getAll('a')).toEqual(['1', '2']);
    expect(form.get('b')).toBe('x y');
    expect(form.get('c')).toBe('café');
    expect(form.get('d')).toBe('');
    expect(form.get('e')).toBe('');
    expect(await req.text()).toBe('a=1&b=x+y&a=2&c=caf%C3%A9&d=&e');
  });

  it('form() is empty for other content types and an empty multipart form, 415 for unknown charsets', async () => {
    expect((await Request.blank('/', { json: { a: 1 } }).form()).size).toBe(0);
    expect((await Request.blank('/', { body: 'a=1' }).form()).size).toBe(0);
    const multipart = Request.blank('/', { body: '--x--', headers: { 'Content-Type': 'multipart/form-data; boundary=x' } });
    expect((await multipart.form()).size).toBe(0);
    const odd = Request.blank('/', {
      body: 'a=1',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=klingon' },
    });
    await expect(odd.form()).rejects.toBeInstanceOf(HTTPUnsupportedMediaType);
  });
});

describe('Request.blank', () => {
  it('builds a complete environ from a path', () => {
    const env = Request.blank('/a/b?x=1').environ;
    expect(env).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '',
      PATH_INFO: '/a/b',
      QUERY_STRING: 'x=1',
      REQUEST_URI: '/a/b?x=1',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      SERVER_PROTOCOL: 'HTTP/1.1',
      HTTP_HOST: 'localhost',
      REMOTE_ADDR: '127.0.0.1',
      'tsgi.url_scheme': 'http',
      'tsgi.multithread': false,
      'tsgi.multiprocess': false,
      'tsgi.run_once': false,
    });
    expect(env['tsgi.version']).toEqual(TSGI_VERSION);
    expect(env['tsgi.input']).toBeInstanceOf(BufferedInput);
    expect(typeof env['tsgi.errors'].write).toBe('function');
    expect(env.CONTENT_LENGTH).toBeUndefined();
    expect(env.CONTENT_TYPE).toBeUndefined();
  });

  it('takes scheme, host and port from an absolute URL', () => {
    const req = Request.blank('https://example.com:8443/p?q=1');
    expect(req.scheme).toBe('https');
    expect(req.environ.SERVER_NAME).toBe('example.com');
    expect(req.environ.SERVER_PORT).toBe('8443');
    expect(req.host).toBe('example.com:8443');
    expect(req.url).toBe('https://example.com:8443/p?q=1');
  });

  it('leaves default ports out of Host', () => {
    const https = Request.blank('https://example.com/x');
    expect(https.environ.SERVER_PORT).toBe('443');
    expect(https.host).toBe('example.com');
    expect(https.url).toBe('https://example.com/x');
    const explicit = Request.blank('http://example.com:80/x');
    expect(explicit.host).toBe('example.com');
    expect(explicit.environ.SERVER_PORT).toBe('80');
    const https80 = Request.blank('https://example.com:80/x');
    expect(https80.url).toBe('https://example.com:80/x');
  });

  it('takes an IPv6 URL', () => {
    const req = Request.blank('http://[::1]:8080/x');
    expect(req.hostname).toBe('[::1]');
    expect(req.port).toBe(8080);
    expect(req.environ.SERVER_NAME).toBe('::1');
    expect(req.url).toBe('http://[::1]:8080/x');
  });

  it('decodes the path of an absolute URL, keeping %2F raw in REQUEST_URI', () => {
    const req = Request.blank('http://h/caf%C3%A9/a%2Fb?x=%20');
    expect(req.pathInfo).toBe('/café/a/b');
    expect(req.queryString).toBe('x=%20');
    expect(req.environ.REQUEST_URI).toBe('/caf%C3%A9/a%2Fb?x=%20');
  });

  it('baseUrl sets scheme, host and SCRIPT_NAME; the path is below it', () => {
    const req = Request.blank('/search?q=tsgi', { baseUrl: 'https://example.com/app' });
    expect(req.scriptName).toBe('/app');
    expect(req.pathInfo).toBe('/search');
    expect(req.query.get('q')).toBe('tsgi');
    expect(req.url).toBe('https://example.com/app/search?q=tsgi');
    expect(req.environ.REQUEST_URI).toBe('/app/search?q=tsgi');
    const slash = Request.blank('/x', { baseUrl: 'http://h:8080/app/' });
    expect(slash.scriptName).toBe('/app');
    expect(slash.url).toBe('http://h:8080/app/x');
    expect(Request.blank('/x', { baseUrl: 'http://h/' }).scriptName).toBe('');
  });

  it('drops a #fragment, as clients do', () => {
    expect(Request.blank('/a?b=1#frag').url).toBe('http://localhost/a?b=1');
    expect(Request.blank('/a#frag').pathInfo).toBe('/a');
    expect(Request.blank('http://h/a#frag').pathInfo).toBe('/a');
  });

  it('throws URIError for a malformed escape and TypeError for a bad URL', () => {
    expect(() => Request.blank('/%zz')).toThrow(URIError);
    expect(() => Request.blank('/%C3')).toThrow(URIError);
    expect(() => Request.blank('http://[bad/')).toThrow(TypeError);
  });

  it('upper-cases the method', () => {
    expect(Request.blank('/', { method: 'post' }).method).toBe('POST');
  });

  it('puts headers in the environ: Content-Type → CONTENT_TYPE, repeats joined, "_" dropped', () => {
    const env = Request.blank('/', {
      headers: [
        ['Content-Type', 'text/csv'],
        ['Content-Length', '3'],
        ['Accept', 'text/html'],
        ['accept', 'application/json'],
        ['X_Bad', 'dropped'],
        ['Host', 'custom.test:81'],
      ],
    }).environ;
    expect(env.CONTENT_TYPE).toBe('text/csv');
    expect(env.CONTENT_LENGTH).toBe('3');
    expect(env.HTTP_CONTENT_TYPE).toBeUndefined();
    expect(env.HTTP_ACCEPT).toBe('text/html, application/json');
    expect(env.HTTP_X_BAD).toBeUndefined();
    expect(env.HTTP_HOST).toBe('custom.test:81');
    expect(new Request(env).url).toBe('http://custom.test:81/');
  });

  it('refuses header names and values that could smuggle lines', () => {
    expect(() => Request.blank('/', { headers: { 'X-A': 'a\r\nX-B: b' } })).toThrow(TypeError);
    expect(() => Request.blank('/', { headers: { 'X A': 'v' } })).toThrow(TypeError);
  });

  it('body as text or bytes sets CONTENT_LENGTH', async () => {
    const text = Request.blank('/', { method: 'POST', body: 'é' });
    expect(text.contentLength).toBe(2);
    expect(await text.text()).toBe('é');
    const bytes = Request.blank('/', { body: new Uint8Array([1, 2, 3]) });
    expect(bytes.contentLength).toBe(3);
    expect([...(await bytes.bytes())]).toEqual([1, 2, 3]);
  });

  it('json and form set a body and a content type unless one is given', async () => {
    const json = Request.blank('/', { json: { a: 1 } });
    expect(json.contentType).toBe('application/json');
    expect(json.contentLength).toBe(7);
    expect(await json.json()).toEqual({ a: 1 });
    const custom = Request.blank('/', { json: [1], headers: { 'Content-Type': 'application/vnd.api+json' } });
    expect(custom.contentType).toBe('application/vnd.api+json');
    const form = Request.blank('/', { form: { a: ['1', '2'], b: 'x y' } });
    expect(form.contentType).toBe('application/x-www-form-urlencoded');
    expect(await form.text()).toBe('a=1&a=2&b=x+y');
    expect((await form.form()).getAll('a')).toEqual(['1', '2']);
    const pairs = Request.blank('/', {
      form: [
        ['k', 'v'],
        ['k', 'w'],
      ],
    });
    expect((await pairs.form()).getAll('k')).toEqual(['v', 'w']);
  });

  it('applies extra environ keys last', () => {
    const req = Request.blank('/', { environ: { REMOTE_ADDR: '10.1.1.1', 'myapp.user': 'bob' } });
    expect(req.remoteAddr).toBe('10.1.1.1');
    expect(req.environ['myapp.user']).toBe('bob');
  });
});
