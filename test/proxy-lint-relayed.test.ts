/**
 * `lint` around `proxy`, over real sockets: an upstream's answer the proxy passes on as it came
 * is not refused for a field only the origin MUST send (RFC 9110: "the origin server MUST
 * generate an Allow header field in a 405", "the server generating a 401 response MUST send a
 * WWW-Authenticate"): lint warns of it instead, so a `TestClient` or a linted dev server shows
 * the upstream's 405 rather than a 500. An app's own such answer is still refused. The
 * common upstream answers (chunked, a 304 and a HEAD with Content-Length, a 204) pass with no
 * warning.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { AuthTickets, CookieSessions, basicAuth, compress, cors, etag, lint, sessionOf } from 'tsgi/middleware';
import { basicAuthorization } from 'tsgi/http';
import { proxy, replaceText, rewriteLocation } from 'tsgi/proxy';
import { rawExchange, start } from './node-helpers.ts';

const upstreams: net.Server[] = [];
afterEach(() => {
  for (const server of upstreams.splice(0)) server.close();
});

/** A raw upstream that answers every request with `answer`, then closes. */
function rawUpstream(answer: string): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.once('data', () => socket.end(answer)));
    upstreams.push(server);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`));
  });
}

/** A secret for the session and ticket layers, 32 bytes or more. */
const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';

/** `app` behind a layer that reads the session, so `CookieSessions` edits the answer's head (`Vary: Cookie`). */
function readingSession(app: App): App {
  return (environ, startResponse) => {
    void sessionOf(environ).get('user');
    return app(environ, startResponse);
  };
}

/** The process warnings (`LintWarning`) emitted while `run` runs. */
async function warningsOf(run: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'LintWarning') warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    await run();
    // process.emitWarning emits on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

/** What a linted proxy of an upstream answering `answer` sends to `method /`, and what lint warned. */
async function linted(answer: string, method = 'GET', layer: (app: App, upstream: string) => App = (app) => app, fields = ''): Promise<{ raw: string; log: string; warnings: string[] }> {
  const url = await rawUpstream(answer);
  // A fresh app each time: lint warns once per app and rule.
  const server = await start(lint(layer(proxy(url), url)));
  let raw = '';
  const warnings = await warningsOf(async () => {
    raw = (await rawExchange(Number(new URL(server.url).port), `${method} / HTTP/1.1\r\nHost: example.com\r\n${fields}Connection: close\r\n\r\n`)).raw;
  });
  return { raw, log: server.log.text, warnings };
}

describe('lint around proxy', () => {
  it('passes on an upstream 405 without Allow, 401 without a challenge, 426 without Upgrade and 206 without Content-Range, warning that the origin left the field out', async () => {
    const answers: Array<[status: string, rule: RegExp]> = [
      ['405 Method Not Allowed', /a 405 response must carry Allow .*relayed from the upstream as it came/],
      ['401 Unauthorized', /a 401 response must carry WWW-Authenticate .*relayed from the upstream as it came/],
      ['426 Upgrade Required', /a 426 response must carry Upgrade .*relayed from the upstream as it came/],
      ['206 Partial Content', /a 206 response must carry Content-Range, or be multipart\/byteranges .*relayed from the upstream as it came/],
    ];
    for (const [status, rule] of answers) {
      const { raw, log, warnings } = await linted(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno`);
      expect(raw.split('\r\n')[0], status).toBe(`HTTP/1.1 ${status}`);
      expect(raw.endsWith('\r\n\r\nno'), status).toBe(true);
      expect(log, status).toBe('');
      expect(warnings, status).toEqual([expect.stringMatching(rule)]);
    }
  });

  it('passes on an upstream ETag that is no entity tag (unquoted), warning of it', async () => {
    const { raw, log, warnings } = await linted('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: abc123\r\nContent-Length: 2\r\n\r\nok');
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(raw).toMatch(/\r\netag: abc123\r\n/i);
    expect(log).toBe('');
    expect(warnings).toEqual([expect.stringMatching(/an ETag must be an entity tag, "x" or W\/"x" \(RFC 9110 §8\.8\.3\); relayed from the upstream as it came \(etag: abc123\)/i)]);
  });

  it('keeps warning, not refusing, when a layer between passes the upstream head on edited (compress, replaceText, cors, rewriteLocation, basicAuth, CookieSessions, AuthTickets, etag)', async () => {
    const cases: Array<[name: string, answer: string, layer: (app: App, upstream: string) => App, fields: string, first: string, rule: RegExp]> = [
      ['compress, a 405 it adds Vary to', 'HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno', (app) => compress(app), 'Accept-Encoding: identity\r\n', 'HTTP/1.1 405 Method Not Allowed', /a 405 response must carry Allow .*relayed/],
      ['compress, a 304 with an unquoted ETag', 'HTTP/1.1 304 Not Modified\r\nETag: abc\r\n\r\n', (app) => compress(app), 'Accept-Encoding: gzip\r\nIf-None-Match: "abc"\r\n', 'HTTP/1.1 304 Not Modified', /an ETag must be an entity tag.*relayed.*\(etag: abc\)/i],
      ['replaceText, a 401 it rewrites', 'HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno', (app) => replaceText(app, { replacements: [['no', 'non']] }), '', 'HTTP/1.1 401 Unauthorized', /a 401 response must carry WWW-Authenticate .*relayed/],
      ['cors, a 405 it grants', 'HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno', (app) => cors(app, { origin: '*' }), 'Origin: https://a.example\r\n', 'HTTP/1.1 405 Method Not Allowed', /a 405 response must carry Allow .*relayed/],
      ['basicAuth, a cacheable 200 it makes private', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: public, max-age=60\r\nETag: abc\r\nContent-Length: 2\r\n\r\nok', (app) => basicAuth(app, { verify: (user, password) => user === 'alice' && password === 'pw' }), `Authorization: ${basicAuthorization('alice', 'pw')}\r\n`, 'HTTP/1.1 200 OK', /an ETag must be an entity tag.*relayed.*\(etag: abc\)/i],
      ['CookieSessions, a 304 with an unquoted ETag under a session read', 'HTTP/1.1 304 Not Modified\r\nETag: abc\r\n\r\n', (app) => new CookieSessions({ secret: SECRET }).middleware(readingSession(app)), '', 'HTTP/1.1 304 Not Modified', /an ETag must be an entity tag.*relayed.*\(etag: abc\)/i],
      ['AuthTickets, a 304 with an unquoted ETag it adds Vary to', 'HTTP/1.1 304 Not Modified\r\nETag: abc\r\n\r\n', (app) => new AuthTickets({ secret: SECRET }).middleware(app), '', 'HTTP/1.1 304 Not Modified', /an ETag must be an entity tag.*relayed.*\(etag: abc\)/i],
      ['etag, an empty 200 it buffers with an unquoted ETag', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: abc\r\nContent-Length: 0\r\n\r\n', (app) => etag(app), '', 'HTTP/1.1 200 OK', /an ETag must be an entity tag.*relayed.*\(etag: abc\)/i],
      ['rewriteLocation, a 401 whose Location it maps', 'HTTP/1.1 401 Unauthorized\r\nLocation: http://old.example.com/login\r\nContent-Length: 0\r\n\r\n', (app) => rewriteLocation(app, { upstream: 'http://old.example.com' }), '', 'HTTP/1.1 401 Unauthorized', /a 401 response must carry WWW-Authenticate .*relayed/],
    ];
    for (const [name, answer, layer, fields, first, rule] of cases) {
      const { raw, log, warnings } = await linted(answer, 'GET', layer, fields);
      expect([name, raw.split('\r\n')[0], log]).toEqual([name, first, '']);
      expect(warnings, name).toEqual([expect.stringMatching(rule)]);
    }
  });

  it('still refuses an app\'s own 405 without Allow (a 500, the LintError logged)', async () => {
    const own: App = (_environ, startResponse) => {
      startResponse('405 Method Not Allowed', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('no')];
    };
    const server = await start(lint(own));
    const { raw } = await rawExchange(Number(new URL(server.url).port), 'GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 500 Internal Server Error');
    expect(server.log.text).toContain('LintError: lint: a 405 response must carry Allow');
  });

  it('passes the common upstream answers with no warning: chunked with a trailer, a 304 and a HEAD with Content-Length, a 204, a 206 of one range, a close-delimited body', async () => {
    const cases: Array<[name: string, method: string, answer: string, first: string]> = [
      ['chunked', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n', 'HTTP/1.1 200 OK'],
      ['304', 'GET', 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 1234\r\nCache-Control: max-age=60\r\n\r\n', 'HTTP/1.1 304 Not Modified'],
      ['HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n', 'HTTP/1.1 200 OK'],
      ['204', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', 'HTTP/1.1 204 No Content'],
      ['206', 'GET', 'HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/5\r\nContent-Length: 2\r\n\r\nhe', 'HTTP/1.1 206 Partial Content'],
      ['close-delimited', 'GET', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello', 'HTTP/1.1 200 OK'],
      ['h2c advertised', 'GET', 'HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade, Keep-Alive\r\nKeep-Alive: timeout=5\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK'],
    ];
    for (const [name, method, answer, first] of cases) {
      const { raw, log, warnings } = await linted(answer, method);
      expect([name, raw.split('\r\n')[0], log, warnings]).toEqual([name, first, '', []]);
    }
  });
});
