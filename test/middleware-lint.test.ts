import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPMethodNotAllowed, HTTPNotModified, HTTPProxyAuthenticationRequired, HTTPUnauthorized, HTTPUpgradeRequired, Request, Response, serve } from 'tsgi';
import { lint, LintError, mount } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { checkEnviron } from '../src/middleware/lint-environ.ts';
import { parseRaw, rawExchange } from './node-helpers.ts';

const enc = new TextEncoder();

/** Runs `app` under lint in-process and reads the whole body. */
async function run(app: App, req: Request = Request.blank('/')): Promise<Response> {
  const res = await req.getResponse(lint(app));
  await res.bytes();
  return res;
}

function starting(status: string, headers: Array<[string, string]>, body: Uint8Array[] = []): App {
  return (_environ, start) => {
    start(status, headers);
    return body;
  };
}

describe('lint: a valid exchange passes', () => {
  it('over a real socket, with the real server environ, streamed and whole bodies', async () => {
    const app = lint(
      Request.application(async (req) => {
        if (req.pathInfo === '/stream') {
          return new Response(
            (async function* () {
              yield enc.encode('a');
              yield enc.encode('b');
            })(),
          );
        }
        if (req.pathInfo === '/304') return new HTTPNotModified();
        return new Response(`echo ${await req.text()}`);
      }),
    );
    const log: string[] = [];
    const server = await serve(app, { port: 0, log: { write: (m) => void log.push(m) } });
    try {
      expect(await (await fetch(`${server.url}/stream`)).text()).toBe('ab');
      expect(await (await fetch(`${server.url}/x`, { method: 'POST', body: 'hi' })).text()).toBe('echo hi');
      expect((await fetch(`${server.url}/x`, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${server.url}/304`)).status).toBe(304);
    } finally {
      await server.close();
    }
    expect(log).toEqual([]);
    expect(app.openBodies).toBe(0);
    app.assertClosed();
  });

  it('in-process with Request.blank, lazy startResponse and a second call with an error', async () => {
    const app: App = (_environ, start) =>
      (function* () {
        start('200 OK', [['Content-Type', 'text/plain']]);
        start('500 Internal Server Error', [['Content-Type', 'text/plain']], new Error('changed my mind'));
        yield enc.encode('x');
      })();
    expect((await run(app)).statusCode).toBe(500);
  });
});

describe('lint: the environ (server side)', () => {
  const cases: Array<[string, (e: Environ) => void, RegExp]> = [
    ['SCRIPT_NAME trailing slash', (e) => (e.SCRIPT_NAME = '/app/'), /lint: SCRIPT_NAME must be '' or start with '\/'/],
    ['SCRIPT_NAME relative', (e) => (e.SCRIPT_NAME = 'app'), /SCRIPT_NAME must be/],
    ['PATH_INFO relative', (e) => (e.PATH_INFO = 'x'), /lint: PATH_INFO must be '' or start with '\/'/],
    ['missing QUERY_STRING', (e) => delete (e as Partial<Environ>).QUERY_STRING, /environ\.QUERY_STRING must be a string/],
    ['numeric SERVER_PORT', (e) => (e.SERVER_PORT = 80 as never), /environ\.SERVER_PORT must be a string/],
    ['bad SERVER_PORT', (e) => (e.SERVER_PORT = 'http'), /SERVER_PORT must be a decimal port number/],
    ['bad method', (e) => (e.REQUEST_METHOD = 'GE T'), /REQUEST_METHOD must be a token/],
    ['bad protocol', (e) => (e.SERVER_PROTOCOL = 'HTTP/one'), /SERVER_PROTOCOL must be/],
    ['bad CONTENT_LENGTH', (e) => (e.CONTENT_LENGTH = '-1'), /CONTENT_LENGTH must be decimal digits/],
    ['CONTENT_TYPE type', (e) => (e.CONTENT_TYPE = 5 as never), /CONTENT_TYPE must be a string when present/],
    ['HTTP_CONTENT_TYPE', (e) => (e.HTTP_CONTENT_TYPE = 'text/plain'), /HTTP_CONTENT_TYPE must not be set/],
    ['HTTP_CONTENT_LENGTH', (e) => (e.HTTP_CONTENT_LENGTH = '3'), /HTTP_CONTENT_LENGTH must not be set/],
    ['HTTP_* not string', (e) => (e.HTTP_X_A = ['a']), /HTTP_\* values must be strings/],
    ['tsgi.version', (e) => delete (e as Partial<Environ>)['tsgi.version'], /tsgi\.version must be/],
    ['url scheme', (e) => (e['tsgi.url_scheme'] = 'ftp'), /tsgi\.url_scheme must be/],
    ['input', (e) => (e['tsgi.input'] = 'body' as never), /tsgi\.input must be an async iterable/],
    ['errors', (e) => (e['tsgi.errors'] = {} as never), /tsgi\.errors must have a write/],
    ['multithread', (e) => (e['tsgi.multithread'] = 'yes' as never), /tsgi\.multithread must be a boolean/],
    ['signal', (e) => (e['tsgi.signal'] = {} as never), /tsgi\.signal must be an AbortSignal/],
    ['shutdown signal', (e) => (e['tsgi.shutdown_signal'] = 'soon' as never), /tsgi\.shutdown_signal must be an AbortSignal/],
    ['wait until', (e) => (e['tsgi.wait_until'] = Promise.resolve() as never), /tsgi\.wait_until must be a function/],
  ];
  it.each(cases)('%s', async (_name, breakIt, message) => {
    const environ = Request.blank('/a').environ;
    breakIt(environ);
    let called = false;
    const app: App = (env, start) => {
      called = true;
      return new Response('x').respond(env, start);
    };
    await expect(run(app, new Request(environ))).rejects.toThrow(message);
    expect(called).toBe(false);
  });

  it('accepts OPTIONS * and an empty CONTENT_LENGTH', () => {
    const environ = Request.blank('/', { method: 'OPTIONS' }).environ;
    environ.PATH_INFO = '*';
    environ.CONTENT_LENGTH = '';
    expect(() => checkEnviron(environ)).not.toThrow();
    environ.SCRIPT_NAME = '/app';
    expect(() => checkEnviron(environ)).toThrow("lint: SCRIPT_NAME must be '' for OPTIONS * (PATH_INFO '*') (\"/app\")");
    environ.REQUEST_METHOD = 'GET';
    expect(() => checkEnviron(environ)).toThrow("lint: PATH_INFO must be '' or start with '/' ('*' for OPTIONS *) (\"*\")");
  });

  it('checks tsgi.input chunks and tsgi.errors.write() arguments', async () => {
    const environ = Request.blank('/').environ;
    environ['tsgi.input'] = (async function* () {
      yield 'text' as unknown as Uint8Array;
    })();
    const reader: App = async (env, start) => {
      for await (const chunk of env['tsgi.input']) void chunk;
      return new Response('read').respond(env, start);
    };
    await expect(run(reader, new Request(environ))).rejects.toThrow(/tsgi\.input chunks must be Uint8Array/);
    const writer: App = (env, start) => {
      env['tsgi.errors'].write(42 as never);
      return new Response('x').respond(env, start);
    };
    await expect(run(writer)).rejects.toThrow(/tsgi\.errors\.write\(\) takes a string/);
  });
});

describe('lint: startResponse', () => {
  const cases: Array<[string, App, RegExp]> = [
    ['status without reason', starting('200', []), /lint: status must be '<3 digits> <reason>' \(got "200"\)/],
    ['status words first', starting('OK 200', []), /status must be/],
    ['status four digits', starting('2000 OK', []), /status must be/],
    ['status zero', starting('099 Odd', []), /status must be/],
    ['1xx status', starting('103 Early Hints', []), /apps must not send 1xx statuses/],
    ['status past 599', starting('600 Odd', []), /status codes are 100-599 \(RFC 9110 §15: 600-999 are invalid, a client takes them for a 5xx\) \(600 Odd\)/],
    ['status 999', starting('999 Library Error', []), /status codes are 100-599/],
    ['status number', starting(200 as never, []), /status must be/],
    ['status with LF', starting('200 OK\nX: y', []), /status must be/],
    ['headers object', starting('200 OK', { 'content-type': 'x' } as never), /headers must be an array/],
    ['header pair', starting('200 OK', [['X-A']] as never), /each header must be a \[name, value\] pair of strings/],
    ['header number', starting('200 OK', [['X-A', 1]] as never), /each header must be a \[name, value\] pair of strings \(got \["X-A", number\]\)/],
    ['header name', starting('200 OK', [['Bad Name', 'v']]), /header names must be tokens/],
    ['header CRLF', starting('200 OK', [['X-A', 'v\r\nSet-Cookie: a=b']]), /header values must not contain CR, LF or NUL/],
    ['header NUL', starting('200 OK', [['X-A', 'v\0']]), /must not contain CR, LF or NUL/],
    ['header control', starting('200 OK', [['X-A', 'v\x1b[31m']]), /header values must be HTAB, SP, visible ASCII or U\+0080-U\+00FF/],
    ['header wide char', starting('200 OK', [['X-A', 'snow ☃']]), /visible ASCII or U\+0080-U\+00FF/],
    ['hop-by-hop', starting('200 OK', [['Transfer-Encoding', 'chunked']]), /hop-by-hop headers are the server's business/],
    ['connection keep-alive', starting('200 OK', [['Connection', 'keep-alive']]), /hop-by-hop/],
    ['upgrade', starting('200 OK', [['Upgrade', 'websocket']]), /hop-by-hop/],
    ['Status header', starting('200 OK', [['Status', '404']]), /there is no Status header/],
    ['two lengths', starting('200 OK', [['Content-Length', '1'], ['content-length', '1']], [enc.encode('x')]), /Content-Length must appear at most once/],
    ['bad length', starting('200 OK', [['Content-Length', '1.0']]), /Content-Length must be decimal digits/],
    ['two types', starting('200 OK', [['Content-Type', 'a/b'], ['Content-Type', 'c/d']]), /Content-Type must appear at most once/],
    ['204 length', starting('204 No Content', [['Content-Length', '0']]), /no Content-Length in a 204 response/],
    ['401 without challenge', starting('401 Unauthorized', [['Content-Type', 'text/plain']]), /a 401 response must carry WWW-Authenticate with a challenge \(RFC 9110 §15\.5\.2\) \(401 Unauthorized\)/],
    ['401 with a blank challenge', starting('401 Unauthorized', [['WWW-Authenticate', ' ']]), /a 401 response must carry WWW-Authenticate/],
    ['HTTPUnauthorized without challenge', new HTTPUnauthorized('Log in first.').toApp(), /a 401 response must carry WWW-Authenticate/],
    ['405 without Allow', starting('405 Method Not Allowed', [['Content-Type', 'text/plain']]), /a 405 response must carry Allow \(RFC 9110 §15\.5\.6; empty when no method is\) \(405 Method Not Allowed\)/],
    ['407 without challenge', starting('407 Proxy Authentication Required', []), /a 407 response must carry Proxy-Authenticate with a challenge \(RFC 9110 §15\.5\.8\) \(407 Proxy Authentication Required\)/],
    ['407 with a blank challenge', starting('407 Proxy Authentication Required', [['Proxy-Authenticate', '']]), /a 407 response must carry Proxy-Authenticate/],
    ['HTTPProxyAuthenticationRequired without challenge', new HTTPProxyAuthenticationRequired().toApp(), /a 407 response must carry Proxy-Authenticate/],
    ['426 without Upgrade', starting('426 Upgrade Required', []), /a 426 response must carry Upgrade with the protocols to switch to \(RFC 9110 §15\.5\.22\) \(426 Upgrade Required\)/],
    ['426 with a blank Upgrade', starting('426 Upgrade Required', [['Upgrade', ' ']]), /a 426 response must carry Upgrade/],
    ['HTTPUpgradeRequired without upgrade', new HTTPUpgradeRequired('Use WebSocket.').toApp(), /a 426 response must carry Upgrade/],
    ['206 without Content-Range', starting('206 Partial Content', [['Content-Type', 'text/plain'], ['Content-Length', '1']], [enc.encode('a')]), /a 206 response must carry Content-Range, or be multipart\/byteranges \(RFC 9110 §15\.3\.7\) \(206 Partial Content\)/],
    ['206 with a blank Content-Range', starting('206 Partial Content', [['Content-Range', ' ']]), /a 206 response must carry Content-Range/],
    ['unquoted ETag', starting('200 OK', [['ETag', 'abc123']]), /an ETag must be an entity tag, "x" or W\/"x" \(RFC 9110 §8\.8\.3\) \(ETag: abc123\)/],
    ['lower-case weak ETag', starting('200 OK', [['ETag', 'w/"abc"']]), /an ETag must be an entity tag/],
    ['ETag list', starting('200 OK', [['etag', '"a", "b"']]), /an ETag must be an entity tag/],
    ['ETag with a space inside', starting('304 Not Modified', [['ETag', '"a b"']]), /an ETag must be an entity tag/],
    ['multipart 206 with Content-Range', starting('206 Partial Content', [['Content-Type', 'multipart/byteranges; boundary=x'], ['Content-Range', 'bytes 0-0/2']]), /a multipart\/byteranges 206 response must not carry Content-Range in its head: each part has its own \(RFC 9110 §15\.3\.7\.2\)/],
    [
      'called twice',
      (_e, start) => {
        start('200 OK', []);
        start('404 Not Found', []);
        return [];
      },
      /startResponse must be called once \(a second call needs the error argument\)/,
    ],
    [
      'called again after the body started',
      (_e, start) =>
        (function* () {
          start('200 OK', []);
          yield enc.encode('a');
          start('200 OK', []);
        })(),
      /startResponse must not be called again once the body started/,
    ],
  ];
  it.each(cases)('%s', async (_name, app, message) => {
    await expect(run(app)).rejects.toThrow(message);
  });

  it('throws a LintError that names the rule', async () => {
    const error = await run(starting('abc', [])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LintError);
    expect((error as LintError).rule).toBe("status must be '<3 digits> <reason>'");
    expect((error as LintError).message).toMatch(/^lint: /);
  });
});

describe('lint: the body', () => {
  const cases: Array<[string, App, RegExp, Request?]> = [
    ['string body', (_e, s) => (s('200 OK', []), 'text' as never), /the body must be an iterable of Uint8Array, not a string/],
    ['bare bytes', (_e, s) => (s('200 OK', []), enc.encode('x') as never), /not bare bytes \(wrap them: \[bytes\]\)/],
    ['null body', (_e, s) => (s('200 OK', []), null as never), /the body must be an iterable or async iterable/],
    ['string chunk', starting('200 OK', [], ['text' as never]), /body chunks must be Uint8Array \(got string\)/],
    ['number chunk', starting('200 OK', [], [[1, 2] as never]), /body chunks must be Uint8Array \(got Array\)/],
    [
      'chunk before startResponse',
      (_e, start) =>
        (function* () {
          yield enc.encode('early');
          start('200 OK', []);
        })(),
      /startResponse must be called before the first body chunk/,
    ],
    ['no startResponse', () => [], /startResponse must be called before the body ends/],
    ['bytes for 204', starting('204 No Content', [], [enc.encode('x')]), /no body bytes in a 204, 205 or 304 response \(RFC 9110 §6.4.1\) \(status 204\)/],
    ['bytes for 304', starting('304 Not Modified', [], [enc.encode('x')]), /no body bytes .* \(status 304\)/],
    ['bytes for 205', starting('205 Reset Content', [], [enc.encode('x')]), /no body bytes in a 204, 205 or 304 response .* \(status 205\)/],
    ['length for 205', starting('205 Reset Content', [['Content-Length', '1']], [enc.encode('x')]), /a 205 response has no content: Content-Length 0 or none/],
    ['length too small', starting('200 OK', [['Content-Length', '1']], [enc.encode('xy')]), /Content-Length must equal the body bytes sent \(declared 1, sent more\)/],
    ['length too large', starting('200 OK', [['Content-Length', '5']], [enc.encode('xy')]), /Content-Length must equal the body bytes sent \(declared 5, sent 2\)/],
  ];
  it.each(cases)('%s', async (_name, app, message, req) => {
    await expect(run(app, req)).rejects.toThrow(message);
  });

  it('warns of what RFC 9110 only discourages, once per rule, and lets it through: Content-Type on a 304 (§15.4.5) or a 204', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const notModified = lint(starting('304 Not Modified', [['Content-Type', 'text/plain'], ['ETag', '"x"']]));
      expect((await Request.blank('/').getResponse(notModified)).statusCode).toBe(304);
      expect((await Request.blank('/').getResponse(notModified)).statusCode).toBe(304); // the same app: warned once
      expect((await run(starting('204 No Content', [['Content-Type', 'text/plain']]))).statusCode).toBe(204);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([
        'LintWarning: lint: a 304 response should not carry Content-Type (RFC 9110 §15.4.5: it has no content; a cache would take the type for its stored one) (304 Not Modified)',
        'LintWarning: lint: a 204 response has no content for Content-Type to describe (nginx drops it) (204 No Content)',
      ]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('warns once per app and rule however often it is wrapped: a TestClient, which lints each call, does not repeat it', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      // A proxy passes on the upstream's reason phrase: a finding is one warning whatever its status line.
      let reason = 0;
      const app: App = (_environ, start) => {
        start(`304 Not Modified ${reason++}`, [['Content-Type', 'text/plain'], ['ETag', '"x"']]);
        return [];
      };
      const client = new TestClient(app);
      for (let i = 0; i < 3; i++) expect((await client.get('/', { status: 304 })).statusCode).toBe(304);
      expect((await run(app)).statusCode).toBe(304); // the same app wrapped anew
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([expect.stringMatching(/^LintWarning: lint: a 304 response should not carry Content-Type .*\(304 Not Modified 0\)$/)]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('allows what docs/spec.md allows: an empty reason, Latin-1 values, Connection: close, 304 with a length', async () => {
    expect((await run(starting('204 ', []))).statusCode).toBe(204);
    expect((await run(starting('299 Custom\tThing', [['X-Latin', 'caf\xe9\tok'], ['Connection', 'Close']]))).statusCode).toBe(299);
    expect((await run(starting('304 Not Modified', [['Content-Length', '10'], ['ETag', '"x"']]))).statusCode).toBe(304);
    expect((await run(starting('205 Reset Content', [['Content-Length', '0']]))).statusCode).toBe(205);
    expect((await run(starting('401 Unauthorized', [['www-authenticate', 'Bearer realm="api"']]))).statusCode).toBe(401);
    expect((await run(new HTTPUnauthorized(undefined, { wwwAuthenticate: { scheme: 'Basic', params: { realm: 'Staff' } } }).toApp())).statusCode).toBe(401);
    expect((await run(starting('405 Method Not Allowed', [['allow', 'GET, HEAD']]))).statusCode).toBe(405);
    // An empty Allow: the resource allows no method (RFC 9110 §10.2.1), as abort(405) answers.
    expect((await run(starting('405 Method Not Allowed', [['Allow', '']]))).statusCode).toBe(405);
    expect((await run(new HTTPMethodNotAllowed().toApp())).statusCode).toBe(405);
    expect((await run(new HTTPMethodNotAllowed(['GET']).toApp())).statusCode).toBe(405);
    expect((await run(new HTTPProxyAuthenticationRequired(undefined, { proxyAuthenticate: 'Basic realm="proxy"' }).toApp())).statusCode).toBe(407);
    expect((await run(new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' }).toApp())).statusCode).toBe(426);
    expect((await run(starting('206 Partial Content', [['Content-Range', 'bytes 0-0/2'], ['Content-Length', '1']], [enc.encode('a')]))).statusCode).toBe(206);
    expect((await run(starting('206 Partial Content', [['Content-Type', 'Multipart/ByteRanges; boundary=x']]))).statusCode).toBe(206);
    expect((await run(starting('200 OK', [['ETag', ' W/"v1" '], ['X-A', 'b']]))).statusCode).toBe(200);
    expect((await run(starting('304 Not Modified', [['ETag', '""']]))).statusCode).toBe(304);
    // A 416's Content-Range is only a SHOULD (§15.5.17).
    expect((await run(starting('416 Range Not Satisfiable', []))).statusCode).toBe(416);
  });

  it('warns of body bytes answered to HEAD, which the server drops keeping the Content-Length (Werkzeug does not refuse them)', async () => {
    const hello = enc.encode('hello');
    const app = lint((environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      if (environ.PATH_INFO === '/stream') {
        return (async function* () {
          yield hello;
        })();
      }
      return [hello];
    });
    const log: string[] = [];
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    const server = await serve(app, { port: 0, log: { write: (m) => void log.push(m) } });
    try {
      for (const path of ['/array', '/stream', '/array']) {
        const res = parseRaw((await rawExchange(server.port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).raw);
        expect(res.status, path).toBe(200);
        expect(res.header('content-length'), path).toBe('5');
        expect(res.rest, path).toBe('');
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await server.close();
      process.off('warning', onWarning);
    }
    // A LintWarning, once per app and rule; nothing on tsgi.errors (which fails a TestClient call).
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([
      'LintWarning: lint: body bytes answered to a HEAD request, which the server drops (docs/spec.md §7.2: the app SHOULD NOT produce them) (HEAD /array)',
    ]);
    expect(log.filter((line) => line.includes('lint'))).toEqual([]);
    expect(app.openBodies).toBe(0);
  });

  it('names the request in its warnings and reports on one line: a decoded path cannot forge a line or drive the terminal (raw socket)', async () => {
    const app = lint((_e, start) => {
      start('200 OK', [['Content-Length', '5']]);
      return [enc.encode('hello')];
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    const server = await serve(app, { port: 0, log: { write: () => {} } });
    try {
      const res = parseRaw((await rawExchange(server.port, 'HEAD /a%0A(node:1)%20LintWarning:%20forged%1B[31m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).raw);
      expect(res.status).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      await server.close();
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/\(HEAD \/a\\x0a\(node:1\) LintWarning: forged\\x1b\[31m\)$/);
    expect(warnings[0]!.message).not.toMatch(/[\n\x1b]/);
  });

  it('allows a HEAD answer with the Content-Length of the GET and no body', async () => {
    const res = await run(starting('200 OK', [['Content-Length', '5']]), Request.blank('/', { method: 'HEAD' }));
    expect(res.statusCode).toBe(200);
  });

  it('finds a consumer that calls next() before the previous one settled', async () => {
    const app = lint((_e, start) => {
      start('200 OK', []);
      return (async function* () {
        yield enc.encode('a');
        yield enc.encode('b');
      })();
    });
    const body = (await app(Request.blank('/').environ, () => {})) as AsyncIterable<Uint8Array>;
    const it = body[Symbol.asyncIterator]();
    const first = it.next();
    await expect(it.next()).rejects.toThrow(/next\(\) must not be called again before the previous next\(\) settled/);
    await first;
    await it.return!();
    app.assertClosed();
  });

  it('finds abandoned bodies, and counts closed and finished ones as done', async () => {
    const app = lint((_e, start) => {
      start('200 OK', []);
      return (function* () {
        yield enc.encode('a');
        yield enc.encode('b');
      })();
    });
    const environ = () => Request.blank('/path').environ;
    // Finished.
    for (const _ of (await app(environ(), () => {})) as Iterable<Uint8Array>) void _;
    // Closed early.
    const closed = ((await app(environ(), () => {})) as Iterable<Uint8Array>)[Symbol.iterator]();
    closed.next();
    closed.return!();
    expect(app.openBodies).toBe(0);
    expect(() => app.assertClosed()).not.toThrow();
    // Abandoned after one chunk.
    const abandoned = ((await app(environ(), () => {})) as Iterable<Uint8Array>)[Symbol.iterator]();
    abandoned.next();
    expect(app.openBodies).toBe(1);
    expect(() => app.assertClosed()).toThrow(/lint: the body must be iterated to the end or closed with return\(\) \(abandoned: GET \/path\)/);
    expect(app.openBodies).toBe(0);
  });

  it('passes errors of the app through untouched', async () => {
    const boom = new Error('app error');
    await expect(
      run(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

describe('lint over a real socket', () => {
  it('turns a violation into a 500 (before the body) and logs the rule', async () => {
    const log: string[] = [];
    const server = await serve(lint(starting('200', [])), { port: 0, log: { write: (m) => void log.push(m) } });
    try {
      expect((await fetch(server.url)).status).toBe(500);
      expect(log.join('')).toContain("LintError: lint: status must be '<3 digits> <reason>'");
    } finally {
      await server.close();
    }
  });

  it('destroys a Node stream body the server closes before reading it (the client left while the app worked)', async () => {
    let stream: Readable | undefined;
    // The client leaves once the app is at work: after a fixed 30 ms, a loaded machine could
    // cut the connection before the request reached the app, which then never made its stream.
    let working!: () => void;
    const atWork = new Promise<void>((resolve) => (working = resolve));
    const app = lint(async (environ, start) => {
      const signal = environ['tsgi.signal']!;
      await new Promise((resolve) => {
        signal.addEventListener('abort', resolve, { once: true });
        working();
      });
      start('200 OK', [['Content-Type', 'text/plain']]);
      stream = Readable.from([enc.encode('never sent')]);
      return stream;
    });
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('error', () => {});
      await atWork;
      socket.destroy();
      for (let i = 0; i < 50 && !stream?.destroyed; i++) await new Promise((r) => setTimeout(r, 10));
      expect(stream?.destroyed).toBe(true);
      expect(app.openBodies).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('closes the body it refuses a chunk of, for a consumer that does not call return() after a throw (for await)', async () => {
    let closed = 0;
    const app: App = (_environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '3']]);
      return (async function* () {
        try {
          for (;;) {
            yield enc.encode('four'); // one byte more than declared: lint refuses it
            await new Promise((r) => setTimeout(r, 5));
          }
        } finally {
          closed++;
        }
      })();
    };
    // The spec §8 idiom: a for-await loop does not call return() on an iterator whose next() threw.
    const passThrough = (inner: App): App => async (environ, start) => {
      const body = await inner(environ, start);
      return (async function* () {
        for await (const chunk of body) yield chunk;
      })();
    };
    const server = await serve(passThrough(lint(app)), { host: '127.0.0.1', port: 0, log: { write: () => true } });
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(500); // refused before the head went out
      await res.text();
      for (let i = 0; i < 50 && closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('refuses a second read of tsgi.input that yields less than the first: a middleware read it whole and put back no copy (spec §3)', async () => {
    const log: string[] = [];
    // The WSGI mistake: read wsgi.input in a middleware, forget to put a copy back.
    const greedy = (inner: App): App => async (environ, start) => {
      for await (const chunk of environ['tsgi.input']) void chunk;
      return inner(environ, start);
    };
    // Done right by hand: a copy that replays, read twice below.
    const keeping = (inner: App): App => async (environ, start) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of environ['tsgi.input']) chunks.push(chunk);
      environ['tsgi.input'] = { async *[Symbol.asyncIterator]() { yield* chunks; } };
      return inner(environ, start);
    };
    const echo: App = async (environ, start) => {
      let text = '';
      for await (const chunk of environ['tsgi.input']) text += new TextDecoder().decode(chunk);
      for await (const chunk of environ['tsgi.input']) void chunk;
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [enc.encode(`echo ${text}`)];
    };
    const server = await serve(mount({ '/greedy': lint(greedy(lint(echo))), '/keeping': lint(keeping(lint(echo))) }), { host: '127.0.0.1', port: 0, log: { write: (m) => void log.push(m) } });
    try {
      const kept = await fetch(`${server.url}/keeping`, { method: 'POST', body: 'hello' });
      expect(await kept.text()).toBe('echo hello');
      expect(log).toEqual([]);
      const res = await fetch(`${server.url}/greedy`, { method: 'POST', body: 'hello' });
      expect(res.status).toBe(500); // not a 200 that echoes an empty body
      expect(log.join('')).toContain('lint: tsgi.input was read to its end, then read again: a reader that reads the body whole must put back a replayable copy (spec §3; req.bytes(), text() and json() do) (the second read gave 0 of its 5 bytes)');
    } finally {
      await server.close();
    }
  });

  it('refuses a headers array changed after startResponse took it (spec §5), so what it checked is what goes out', async () => {
    const log: string[] = [];
    const changedLater: App = (_environ, start) => {
      const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
      start('200 OK', headers);
      headers.push(['Transfer-Encoding', 'chunked']); // a field start would have refused
      return [enc.encode('hi')];
    };
    const changedInBody: App = (_environ, start) => {
      const headers: Array<[string, string]> = [['Content-Type', 'text/plain']];
      start('200 OK', headers);
      return (async function* () {
        headers[0] = ['Content-Type', 'text/html'];
        yield enc.encode('<b>hi</b>');
      })();
    };
    const server = await serve(mount({ '/later': lint(changedLater), '/body': lint(changedInBody) }), { host: '127.0.0.1', port: 0, log: { write: (m) => void log.push(m) } });
    try {
      const later = await fetch(`${server.url}/later`);
      expect(later.status).toBe(500);
      expect(later.headers.get('transfer-encoding')).toBeNull();
      const body = await fetch(`${server.url}/body`);
      expect(body.status).toBe(500);
      expect(body.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(log.join('')).toContain('lint: the headers array must not change once given to startResponse (spec §5) (field 1 added: Transfer-Encoding)');
      expect(log.join('')).toContain('lint: the headers array must not change once given to startResponse (spec §5) (field 0 changed: Content-Type: text/plain → Content-Type: text/html)');
    } finally {
      await server.close();
    }
  });

  it('aborts the response when the body breaks a rule after the headers are out', async () => {
    const log: string[] = [];
    const app = lint((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield enc.encode('fine');
        await new Promise((r) => setTimeout(r, 5));
        yield 'not bytes' as unknown as Uint8Array;
      })();
    });
    const server = await serve(app, { port: 0, log: { write: (m) => void log.push(m) } });
    try {
      const res = await fetch(server.url);
      await expect(res.text()).rejects.toThrow();
      expect(log.join('')).toContain('lint: body chunks must be Uint8Array');
    } finally {
      await server.close();
    }
  });
});
