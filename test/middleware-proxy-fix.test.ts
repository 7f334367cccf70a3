import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { parseForwarded } from 'tsgi/http';
import { lint, proxyFix, type ProxyFixOptions, proxyFixOrigKey } from 'tsgi/middleware';
import { growthRatio } from './helpers.ts';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

/** What the app below sees. */
const report: App = Request.application((req) =>
  Response.json({
    REMOTE_ADDR: req.environ.REMOTE_ADDR ?? null,
    REMOTE_PORT: req.environ.REMOTE_PORT ?? null,
    scheme: req.scheme,
    HTTP_HOST: req.environ.HTTP_HOST ?? null,
    SERVER_NAME: req.environ.SERVER_NAME,
    SERVER_PORT: req.environ.SERVER_PORT,
    SCRIPT_NAME: req.scriptName,
    url: req.url,
    applicationUrl: req.applicationUrl,
    orig: proxyFixOrigKey.get(req) ?? null,
    origByName: req.environ['tsgi.proxy_fix_orig'] === proxyFixOrigKey.get(req),
  }),
);

type Seen = Record<string, unknown> & { orig: Record<string, unknown> };

/** Sends a raw request with `headers` (a string of header lines) through proxyFix(report, options). */
async function through(options: ProxyFixOptions | undefined, headers: string, target = '/path?q=1', method = 'GET'): Promise<Seen> {
  const server = await start(lint(proxyFix(lint(report), options)));
  const result = await rawExchange(server.port, `${method} ${target} HTTP/1.1\r\nHost: backend:8000\r\nConnection: close\r\n${headers}\r\n`);
  const res = parseRaw(result.raw);
  expect(res.status, result.raw).toBe(200);
  expect(server.log.text).toBe('');
  return JSON.parse(res.rest) as Seen;
}

const ALL = 'X-Forwarded-For: 203.0.113.9, 198.51.100.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: example.com\r\nX-Forwarded-Port: 8443\r\nX-Forwarded-Prefix: /shop/\r\nForwarded: for=192.0.2.1;proto=https;host=forwarded.example\r\n';

describe('proxyFix', () => {
  it('trusts nothing unless configured, and keeps the originals', async () => {
    const seen = await through(undefined, ALL);
    expect(seen).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'backend:8000', SCRIPT_NAME: '', url: 'http://backend:8000/path?q=1' });
    expect(seen.orig).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'http', HTTP_HOST: 'backend:8000', SCRIPT_NAME: '' });
    expect(seen.origByName).toBe(true);
  });

  it('takes X-Forwarded-* values from the right, one per trusted hop', async () => {
    const seen = await through({ xFor: 1, xProto: 1, xHost: 1, xPrefix: 1 }, ALL);
    expect(seen).toMatchObject({
      REMOTE_ADDR: '198.51.100.7',
      REMOTE_PORT: null,
      scheme: 'https',
      HTTP_HOST: 'example.com',
      SERVER_NAME: 'example.com',
      SERVER_PORT: '443',
      SCRIPT_NAME: '/shop',
      url: 'https://example.com/shop/path?q=1',
      applicationUrl: 'https://example.com/shop',
    });
    expect(seen.orig).toMatchObject({ REMOTE_ADDR: '127.0.0.1', HTTP_HOST: 'backend:8000', 'tsgi.url_scheme': 'http', SERVER_PORT: expect.any(String) });
    const two = await through({ xFor: 2 }, ALL);
    expect(two.REMOTE_ADDR).toBe('203.0.113.9');
  });

  it('ignores a header with fewer values than trusted hops (a client-set value cannot pose as a proxy one)', async () => {
    const seen = await through({ xFor: 2, xProto: 2, xHost: 2 }, 'X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n');
    expect(seen).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'backend:8000' });
    // the client's own value to the left of the proxy's is never used
    const spoofed = await through({ xFor: 1 }, 'X-Forwarded-For: 6.6.6.6, 198.51.100.7\r\n');
    expect(spoofed.REMOTE_ADDR).toBe('198.51.100.7');
  });

  it('replaces the port from X-Forwarded-Port, after the host', async () => {
    const seen = await through({ xProto: 1, xHost: 1, xPort: 1 }, ALL);
    expect(seen).toMatchObject({ HTTP_HOST: 'example.com:8443', SERVER_PORT: '8443', url: 'https://example.com:8443/path?q=1' });
    const onlyPort = await through({ xPort: 1 }, 'X-Forwarded-Port: 81\r\n');
    expect(onlyPort).toMatchObject({ HTTP_HOST: 'backend:81', SERVER_PORT: '81' });
    const hostWithPort = await through({ xHost: 1 }, 'X-Forwarded-Host: [2001:db8::5]:8080\r\n');
    expect(hostWithPort).toMatchObject({ HTTP_HOST: '[2001:db8::5]:8080', SERVER_NAME: '[2001:db8::5]', SERVER_PORT: '8080' });
  });

  it('ignores values that do not parse', async () => {
    const hostile = [
      'X-Forwarded-For: not-an-ip',
      'X-Forwarded-For: 1.2.3.4.5',
      'X-Forwarded-Proto: ht tp',
      'X-Forwarded-Proto: https://evil',
      'X-Forwarded-Host: evil.example/path',
      'X-Forwarded-Host: user@evil.example',
      'X-Forwarded-Host: evil.example:99999',
      'X-Forwarded-Port: 99999',
      'X-Forwarded-Port: 80a',
      'X-Forwarded-Prefix: no-slash',
      'X-Forwarded-Prefix: /bad%zz',
      'X-Forwarded-Prefix: /nul%00',
      'X-Forwarded-Prefix: //evil.com',
      'X-Forwarded-Prefix: /%2Fevil.com',
      'X-Forwarded-Prefix: /../x',
      'X-Forwarded-Prefix: /a/%2e%2e/x',
      'X-Forwarded-Prefix: /./x',
      'X-Forwarded-Prefix: /a<script>',
      'X-Forwarded-Prefix: /a%3Cscript%3E',
      'X-Forwarded-Prefix: /a b',
      'X-Forwarded-Prefix: /a\\b',
      'X-Forwarded-Proto: javascript',
      'X-Forwarded-Proto: ftp',
      'X-Forwarded-For: ',
    ].join('\r\n');
    const seen = await through({ xFor: 1, xProto: 1, xHost: 1, xPort: 1, xPrefix: 1 }, `${hostile}\r\n`);
    // Repeated header lines are joined with ", ", so each header's rightmost value is its last line.
    expect(seen).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'backend:8000', SCRIPT_NAME: '' });
    for (const line of hostile.split('\r\n')) {
      const one = await through({ xFor: 1, xProto: 1, xHost: 1, xPort: 1, xPrefix: 1 }, `${line}\r\n`);
      expect(one, line).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'backend:8000', SCRIPT_NAME: '' });
    }
  });

  it('reads a prefix of many slashes in linear time (the trailing slashes trimmed without backtracking)', async () => {
    const server = await start(proxyFix(report, { xPrefix: 1 }));
    const read = async (n: number) => {
      const result = await rawExchange(server.port, `GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Forwarded-Prefix: ${'/'.repeat(n)}a\r\n\r\n`);
      expect(parseRaw(result.raw).status).toBe(200);
    };
    // Ten times the slashes: quadratic would be 100 times the CPU time (about 0.3 s of it for
    // 16 KB of slashes, 30 measured with the regex); linear, 10 at most (1 to 2 measured: the
    // exchange's own cost weighs on the short one).
    expect(await growthRatio(read, 1600, 16_000)).toBeLessThan(10);
  });

  it('ignores a forwarded host with a percent sign, as the server refuses one in Host', async () => {
    for (const line of ['X-Forwarded-Host: a%', 'X-Forwarded-Host: evil.example%2F..', 'X-Forwarded-Host: a%20b', 'Forwarded: host="a%"']) {
      const seen = await through({ xHost: 1, forwarded: 1 }, `${line}\r\n`);
      expect(seen, line).toMatchObject({ HTTP_HOST: 'backend:8000', url: 'http://backend:8000/path?q=1' });
    }
    // An app resolving a link against the request URL (`req.relativeUrl`) must not fail with a 500.
    const server = await start(proxyFix(Request.application((req) => req.relativeUrl('next')), { xHost: 1 }));
    const res = parseRaw((await rawExchange(server.port, 'GET /a HTTP/1.1\r\nHost: h\r\nX-Forwarded-Host: a%\r\nConnection: close\r\n\r\n')).raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe('http://h/next');
    expect(server.log.text).toBe('');
  });

  it('ignores a forwarded host no URL can carry, as the server refuses one in Host', async () => {
    for (const line of ['X-Forwarded-Host: 999.1.1.1', 'X-Forwarded-Host: a.1:8080', 'Forwarded: host="[::1::2]"']) {
      const seen = await through({ xHost: 1, forwarded: 1 }, `${line}\r\n`);
      expect(seen, line).toMatchObject({ HTTP_HOST: 'backend:8000', url: 'http://backend:8000/path?q=1' });
    }
    const seen = await through({ xHost: 1 }, 'X-Forwarded-Host: 10.0.0.1:8080\r\n');
    expect(seen).toMatchObject({ HTTP_HOST: '10.0.0.1:8080', url: 'http://10.0.0.1:8080/path?q=1' });
  });

  it('takes a clean prefix, percent-decoded, and either case of http/https', async () => {
    const seen = await through({ xProto: 1, xPrefix: 1 }, 'X-Forwarded-Proto: HTTPS\r\nX-Forwarded-Prefix: /my%20shop/v2/\r\n');
    expect(seen).toMatchObject({ scheme: 'https', SCRIPT_NAME: '/my shop/v2' });
  });

  it('applies no prefix to OPTIONS *, which names the server, not a path (RFC 9112 §3.2.4, §3.3)', async () => {
    const headers = 'X-Forwarded-Proto: https\r\nX-Forwarded-Host: example.com\r\nX-Forwarded-Prefix: /app\r\n';
    const seen = await through({ xProto: 1, xHost: 1, xPrefix: 1 }, headers, '*', 'OPTIONS');
    expect(seen).toMatchObject({ scheme: 'https', HTTP_HOST: 'example.com', SCRIPT_NAME: '', url: 'https://example.com', applicationUrl: 'https://example.com' });
    // A path below it still gets the prefix.
    expect(await through({ xPrefix: 1 }, headers, '/x', 'OPTIONS')).toMatchObject({ SCRIPT_NAME: '/app', url: 'http://backend:8000/app/x' });
  });

  it('does not take X_Forwarded_For (underscores) for X-Forwarded-For', async () => {
    const seen = await through({ xFor: 1 }, 'X_Forwarded_For: 6.6.6.6\r\n');
    expect(seen.REMOTE_ADDR).toBe('127.0.0.1');
  });

  it('reads RFC 7239 Forwarded, with quoted strings, IPv6 and ports, hop by hop', async () => {
    const header = 'Forwarded: for=192.0.2.60;proto=https;host="shop.example:444", For="[2001:db8:cafe::17]:4711";by=203.0.113.43\r\n';
    const last = await through({ forwarded: 1 }, header);
    expect(last).toMatchObject({ REMOTE_ADDR: '2001:db8:cafe::17', REMOTE_PORT: '4711', scheme: 'http', HTTP_HOST: 'backend:8000' });
    const first = await through({ forwarded: 2 }, header);
    expect(first).toMatchObject({ REMOTE_ADDR: '192.0.2.60', REMOTE_PORT: null, scheme: 'https', HTTP_HOST: 'shop.example:444', SERVER_PORT: '444' });
    expect(first.url).toBe('https://shop.example:444/path?q=1');
    const tooFew = await through({ forwarded: 3 }, header);
    expect(tooFew.REMOTE_ADDR).toBe('127.0.0.1');
    // two header lines are one list
    const lines = await through({ forwarded: 1 }, 'Forwarded: for=6.6.6.6\r\nForwarded: for=198.51.100.1\r\n');
    expect(lines.REMOTE_ADDR).toBe('198.51.100.1');
    // Forwarded wins over X-Forwarded-For when both are trusted
    const both = await through({ forwarded: 1, xFor: 1 }, ALL);
    expect(both.REMOTE_ADDR).toBe('192.0.2.1');
    expect(both.HTTP_HOST).toBe('forwarded.example');
  });

  it('ignores a malformed or obfuscated Forwarded', async () => {
    for (const value of [
      'for=192.0.2.1;for=198.51.100.2',
      'for="unterminated',
      'for=192.0.2.1 junk',
      'for',
      'for=_hidden',
      'for=unknown',
      'for="[::1"',
      'for=192.0.2.1:80',
      'proto=ht%20tp',
    ]) {
      const seen = await through({ forwarded: 1 }, `Forwarded: ${value}\r\n`);
      expect(seen, value).toMatchObject({ REMOTE_ADDR: '127.0.0.1', scheme: 'http', HTTP_HOST: 'backend:8000' });
    }
    // ... among the trusted elements: with two hops, the proxy's own element is bad
    const secondBad = await through({ forwarded: 2 }, 'Forwarded: for=192.0.2.1, for=198.51.100.1 junk\r\n');
    expect(secondBad.REMOTE_ADDR).toBe('127.0.0.1');
  });

  it('reads the trusted Forwarded elements whatever the client put further left (an open quote, a repeated parameter)', async () => {
    // The client sends the part before the last comma; the proxy appends its element.
    for (const [sent, options, address] of [
      ['for="6.6.6.6, for=198.51.100.1', { forwarded: 1 }, '198.51.100.1'],
      ['for="6.6.6.6, for="[2001:db8::1]:4711"', { forwarded: 1 }, '2001:db8::1'],
      ['for="a\\", for=6.6.6.6;for=7.7.7.7, for=198.51.100.1', { forwarded: 1 }, '198.51.100.1'],
      ['for=6.6.6.6 junk, for=192.0.2.1;proto=https, for="198.51.100.1"', { forwarded: 2 }, '192.0.2.1'],
      ['by="x\\"y", for="6.6.6.6, ,  for=198.51.100.1 ,', { forwarded: 1 }, '198.51.100.1'],
    ] as const) {
      const seen = await through(options, `Forwarded: ${sent}\r\n`);
      expect(seen.REMOTE_ADDR, sent).toBe(address);
    }
    // an open quote in the client's part is not closed by the proxy's quotes
    const quoted = await through({ forwarded: 1 }, 'Forwarded: for="6.6.6.6;proto=https, for="198.51.100.1";host="shop.example"\r\n');
    expect(quoted).toMatchObject({ REMOTE_ADDR: '198.51.100.1', scheme: 'http', HTTP_HOST: 'shop.example' });
    // too few elements still ignore the header, client part included
    const tooFew = await through({ forwarded: 2 }, 'Forwarded: for="6.6.6.6, for=198.51.100.1\r\n');
    expect(tooFew.REMOTE_ADDR).toBe('127.0.0.1');
  });

  it('rewrites only for trusted peers when given a trust list (proxy-addr)', async () => {
    const trusted = await through({ xFor: 1, trust: 'loopback' }, 'X-Forwarded-For: 198.51.100.7\r\n');
    expect(trusted.REMOTE_ADDR).toBe('198.51.100.7');
    const untrusted = await through({ xFor: 1, trust: ['10.0.0.0/8', '192.168.1.1'] }, 'X-Forwarded-For: 198.51.100.7\r\n');
    expect(untrusted.REMOTE_ADDR).toBe('127.0.0.1');
    expect(untrusted.orig).toMatchObject({ REMOTE_ADDR: '127.0.0.1' });
    const fn = await through({ xFor: 1, trust: (addr) => addr === '127.0.0.1' }, 'X-Forwarded-For: 198.51.100.7\r\n');
    expect(fn.REMOTE_ADDR).toBe('198.51.100.7');
  });

  it('prepends the prefix to a mounted SCRIPT_NAME and refuses bad options', async () => {
    const mounted: App = (environ, startResponse) => {
      environ.SCRIPT_NAME = '/app';
      environ.PATH_INFO = environ.PATH_INFO.replace(/^\/app/, '');
      return proxyFix(report, { xPrefix: 1 })(environ, startResponse);
    };
    const server = await start(mounted);
    const result = await rawExchange(server.port, 'GET /app/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Forwarded-Prefix: /a%20b\r\n\r\n');
    const seen = JSON.parse(parseRaw(result.raw).rest) as Seen;
    expect(seen.SCRIPT_NAME).toBe('/a b/app');
    expect(seen.url).toBe('http://h/a%20b/app/x');
    expect(() => proxyFix(report, { xFor: -1 })).toThrow(TypeError);
    expect(() => proxyFix(report, { xFor: 1.5 })).toThrow(TypeError);
    expect(() => proxyFix(report, { trust: 'not an address' })).toThrow(TypeError);
  });
});

describe('parseForwarded', () => {
  it('parses elements and pairs (RFC 7239 §4)', () => {
    expect(parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual([{ for: '192.0.2.60', proto: 'http', by: '203.0.113.43' }]);
    expect(parseForwarded('for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown')).toEqual([
      { for: '192.0.2.43' },
      { for: '[2001:db8:cafe::17]' },
      { for: 'unknown' },
    ]);
    expect(parseForwarded('FOR="a\\"b" ; Proto=https')).toEqual([{ for: 'a"b', proto: 'https' }]);
    expect(parseForwarded('for=a,,  ,for=b')).toEqual([{ for: 'a' }, { for: 'b' }]);
    expect(parseForwarded('')).toEqual([]);
  });

  it('answers null for anything malformed', () => {
    for (const bad of ['for', 'for=', 'for=a;for=b', 'for="x', 'for=a b', '=a', 'for=a;;x', 'for=[::1]']) {
      expect(parseForwarded(bad), bad).toBeNull();
    }
    expect(parseForwarded(undefined)).toBeNull();
  });
});
