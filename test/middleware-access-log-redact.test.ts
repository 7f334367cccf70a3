/**
 * `redactQuery`: the values of secret query parameters written `[Redacted]` in `accessLog`'s
 * lines (every format) and in the request line of the server's error log (`serve()`'s
 * `redactQuery`, read through `tsgi.redact_query`), over real sockets.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request } from 'tsgi';
import { type AccessLogOptions, accessLog, errors, redactQuery } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { rawExchange, start, until } from './node-helpers.ts';

const ok: App = (_environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};

/** The access log line of one raw request to an `accessLog(ok, options)` under `serve()`. */
async function loggedLine(options: AccessLogOptions, target: string, fields = ''): Promise<string> {
  const lines: string[] = [];
  const server = await start(accessLog(ok, { ...options, log: { write: (line: string) => void lines.push(line) } }));
  await rawExchange(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${fields}Connection: close\r\n\r\n`);
  await until(() => lines.length > 0);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('redactQuery', () => {
  const names = ['token', 'code'];

  it.each([
    ['a listed value, others as sent', '/cb?code=abc&state=x', '/cb?code=[Redacted]&state=x'],
    ['without regard to case', '/r?TOKEN=abc&Code=d', '/r?TOKEN=[Redacted]&Code=[Redacted]'],
    ['a percent-encoded name, kept as sent', '/r?%74oken=abc&%54OKEN=d', '/r?%74oken=[Redacted]&%54OKEN=[Redacted]'],
    ['every occurrence of a repeated name', '/r?token=a&x=1&token=b', '/r?token=[Redacted]&x=1&token=[Redacted]'],
    ['an empty value left empty, no = left alone', '/r?token=&code&x=1', '/r?token=&code&x=1'],
    ['a value holding = and escapes', '/r?token=a%3Db=c%zz', '/r?token=[Redacted]'],
    ['only & separates: ; is part of a value', '/r?x=1;token=abc&y=2', '/r?x=1;token=abc&y=2'],
    ['a malformed escape elsewhere in the name', '/r?%74oken%zz=a&%74oken=b&%E0%A4%A=c', '/r?%74oken%zz=a&%74oken=[Redacted]&%E0%A4%A=c'],
    ['a name with bytes that are not UTF-8', '/r?%FF%74oken=a&%74oken%FF=b', '/r?%FF%74oken=a&%74oken%FF=b'],
    ['+ as a space', '/r?to+ken=a&token+=b', '/r?to+ken=a&token+=b'],
    ['up to a fragment', 'https://site.example/reset?token=abc#top', 'https://site.example/reset?token=[Redacted]#top'],
    ['no query', '/path/token=abc', '/path/token=abc'],
    ['an empty query and empty parameters', '/r?&&token=a&', '/r?&&token=[Redacted]&'],
  ])('%s', (_name, url, expected) => {
    expect(redactQuery(url, names)).toBe(expected);
  });

  it('matches a name given percent-encoded or with + in the list as it matches one sent so (tsgi serve --access-log-redact takes no space)', () => {
    // `my%20token` and `my+token` are both `my token`; `%74oken` is `token`.
    expect(redactQuery('/r?my+token=a&my%20token=b&%74oken=c&token=d&x=1', ['my%20token', '%74oken'])).toBe(
      '/r?my+token=[Redacted]&my%20token=[Redacted]&%74oken=[Redacted]&token=[Redacted]&x=1',
    );
    expect(redactQuery('/r?user+id=a&USER%20ID=b', ['user+id'])).toBe('/r?user+id=[Redacted]&USER%20ID=[Redacted]');
    // A name is matched as written too: `a+b` (sent `a%2Bb`), `100%` (sent `100%25`), a malformed escape.
    expect(redactQuery('/r?a%2Bb=a&100%25=b&%zz=c', ['a+b', '100%', '%zz'])).toBe('/r?a%2Bb=[Redacted]&100%25=[Redacted]&%zz=[Redacted]');
  });

  it('with no names, answers the URL as it is', () => {
    expect(redactQuery('/r?token=a', [])).toBe('/r?token=a');
  });
});

describe('accessLog redactQuery', () => {
  const target = '/reset?Token=s3cret&next=%2Fhome&%63ode=abc&flag';
  const shown = '/reset?Token=[Redacted]&next=%2Fhome&%63ode=[Redacted]&flag';
  const referer = 'Referer: http://site.example/login?code=xyz&lang=en\r\n';
  const shownReferer = 'http://site.example/login?code=[Redacted]&lang=en';

  it.each([
    ['combined', `"GET ${shown} HTTP/1.1" 200 2 "${shownReferer}" "-"`],
    ['common', `"GET ${shown} HTTP/1.1" 200 2`],
    ['dev', `GET ${shown} 200 `],
    ['tiny', `GET ${shown} 200 2 - `],
  ] as const)('redacts the request line of the %s format', async (format, expected) => {
    const line = await loggedLine({ format, redactQuery: ['token', 'CODE'] }, target, referer);
    expect(line).toContain(expected);
    expect(line).not.toMatch(/s3cret|abc|xyz/);
  });

  it('redacts the url and referer of the json format, and what a format function gets', async () => {
    const json = JSON.parse(await loggedLine({ format: 'json', redactQuery: ['token', 'code'] }, target, referer)) as Record<string, unknown>;
    expect(json).toMatchObject({ method: 'GET', url: shown, referer: shownReferer, status: 200 });
    const own = await loggedLine(
      { format: (e) => JSON.stringify([e.url, e.requestLine, e.referer, e.environ.REQUEST_URI]), redactQuery: ['token', 'code'] },
      target,
      referer,
    );
    // The entry's fields are redacted; the environ holds the request as received.
    expect(JSON.parse(own)).toEqual([shown, `GET ${shown} HTTP/1.1`, shownReferer, target]);
  });

  it("redacts the query of an environ without REQUEST_URI (another server's) whose path holds ? and #, which the line escapes", async () => {
    const lines: string[] = [];
    const app = accessLog(ok, { format: 'common', redactQuery: ['token'], log: { write: (line: string) => void lines.push(line) } });
    const environ = {
      REQUEST_METHOD: 'GET', SCRIPT_NAME: '/app', PATH_INFO: '/a?b#c d', QUERY_STRING: 'token=s3cret&x=1', SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_NAME: 'x', SERVER_PORT: '80', 'tsgi.url_scheme': 'http', 'tsgi.input': [], 'tsgi.errors': { write: () => {} },
    } as unknown as Environ;
    for await (const _chunk of await app(environ, () => {})) void _chunk;
    await until(() => lines.length > 0);
    expect(lines[0]).toContain('"GET /app/a%3Fb%23c%20d?token=[Redacted]&x=1 HTTP/1.1" 200');
  });

  it('logs the query as sent without redactQuery, or with an empty list', async () => {
    expect(await loggedLine({ format: 'common' }, target)).toContain(`"GET ${target} HTTP/1.1"`);
    expect(await loggedLine({ format: 'common', redactQuery: [] }, target)).toContain(`"GET ${target} HTTP/1.1"`);
  });

  it('refuses a list that is not one of non-empty names, when made', () => {
    expect(() => accessLog(ok, { redactQuery: 'token' as unknown as string[] })).toThrow(/^accessLog: redactQuery must be an array/);
    expect(() => accessLog(ok, { redactQuery: ['token', ''] })).toThrow(TypeError);
  });
});

describe('serve() redactQuery: the error log', () => {
  const failing = Request.application(() => {
    throw new Error('boom');
  });

  it("redacts the request line of the server's own error line and of errors()' line", async () => {
    for (const app of [failing, errors(failing)]) {
      const server = await start(app, { redactQuery: ['token'] });
      const { raw } = await rawExchange(server.port, 'GET /r?a=1&TOKEN=s3cret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(raw).toMatch(/^HTTP\/1\.1 500 /);
      await until(() => server.log.text.includes('boom'));
      expect(server.log.text).toMatch(/^\[tsgi\] GET \/r\?a=1&TOKEN=\[Redacted\] HTTP\/1\.1( 500)?: Error: boom\n/);
      expect(server.log.text).not.toContain('s3cret');
    }
  });

  it("redacts accessLog's own error line (its log stream failed) as the server's list asks, with or without accessLog's own", async () => {
    const broken = { write: () => { throw new Error('disk full'); } };
    for (const own of [undefined, ['code']]) {
      const server = await start(accessLog(ok, { log: broken, redactQuery: own }), { redactQuery: ['token'] });
      await rawExchange(server.port, 'GET /r?token=s3cret&code=s3cret2&x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await until(() => server.log.text.includes('disk full'));
      expect(server.log.text).toMatch(/^\[tsgi\] GET \/r\?token=\[Redacted\]&code=(\[Redacted\]|s3cret2)&x=1 HTTP\/1\.1 \(accessLog could not write its line\): Error: disk full\n/);
      expect(server.log.text).not.toContain('s3cret&');
      if (own !== undefined) expect(server.log.text).not.toContain('s3cret2');
    }
  });

  it("redacts the request line of a failing upgrade handler's error line", async () => {
    const server = await start(ok, {
      redactQuery: ['access_token'],
      upgrade: () => {
        throw new Error('no socket for you');
      },
    });
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () =>
        socket.write('GET /ws?access_token=s3cret&room=1 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'),
      );
      let got = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (got += chunk));
      socket.on('end', () => resolve(got)).on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 500 /);
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/ws\?access_token=\[Redacted\]&room=1 \(upgrade handler\): Error: no socket for you\n/);
  });

  it('redacts under toFetchHandler too, and leaves the line as sent without the option', async () => {
    const lines: string[] = [];
    const log = { write: (line: string) => void lines.push(line) };
    await toFetchHandler(failing, { log, redactQuery: ['code'] })(new globalThis.Request('http://x/cb?code=s3cret'));
    await toFetchHandler(failing, { log })(new globalThis.Request('http://x/cb?code=plain'));
    expect(lines.join('')).toMatch(/^\[tsgi\] GET \/cb\?code=\[Redacted\] HTTP\/1\.1: Error: boom\n/);
    expect(lines.join('')).toMatch(/\n\[tsgi\] GET \/cb\?code=plain HTTP\/1\.1: Error: boom\n/);
  });

  it('refuses a list that is not one of non-empty names, when made', () => {
    expect(() => toFetchHandler(ok, { redactQuery: [''] })).toThrow(/^toFetchHandler: redactQuery must be an array/);
  });
});
