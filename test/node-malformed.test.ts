/**
 * Hostile and malformed requests in bulk, over a real socket: a seeded generator mixes bad
 * percent-escapes, raw non-ASCII bytes, odd Host values, malformed Accept, Cookie, Range,
 * conditional, Authorization, Cache-Control and X-Forwarded-* fields, broken forms, JSON and
 * multipart bodies, sent with Content-Length or chunked, into requests for an app that reads all
 * of it through `Request` (behind `errors`, `proxyFix`, `compress`, `mount` and `basicAuth`).
 * Every request must get one complete answer, framed as it says, with a status below 500 (501
 * for an unknown transfer coding), and nothing may reach the error log: bad input is the
 * client's fault, answered with a 4xx, never a crash or a 500.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Request, Response, compose } from 'tsgi';
import { basicAuth, compress, errors, mount, proxyFix, staticUsers } from 'tsgi/middleware';
import { start } from './node-helpers.ts';
import { generator } from './helpers.ts';

const SEGMENTS = ['a', '%zz', '%c3', '%c3%a9', '%ff', '%00', '%2F', '%2e%2e', '..', '', '%E2%82', '%', 'x%20y', ';p=1', '%25', '%C0%AF', '%ED%A0%80'];
const PREFIXES = ['/m', '/m/form', '/m/files', '/m/json', '/m/text', '/auth', '', '//'];
const QUERIES = ['a=1', 'a=%zz', '%ff=1', 'a&&b', '=x', 'a=1;b=2', 'a=%c3', 'a[]=1&a[]=2', 'a=b=c', '+%2B+', 'a=%'];
const HOSTS = ['a:b:c', '[::1]:80', 'x:99999', '', '[zz]', 'x:', ':80', 'a..b'];
const FIELDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Accept', ['text/html;q=abc', '*/*;q=2', ';;;', 'a/b/c', 'text/html;q=', ',', 'application/json;q=0.9;q=0.1']],
  ['Accept-Language', ['en-;q=', '*', 'zz-ZZZZZZZZZZZ', ';q=1', 'en;q=1.0001']],
  ['Accept-Encoding', ['gzip;q=0, br;q=xyz, *', 'identity;q=0', '*;q=0', 'gzip,gzip', ';']],
  ['Cookie', ['a=b; c="d', '=; ;', 'a=%zz', 'x', 'a=b;;;;c=d', '"a"=b']],
  ['Range', ['bytes=5-1', 'bytes=-0', 'bytes=abc', 'items=0-1', 'bytes=99999999999999999999-', 'bytes=,', `bytes=${'0-0,'.repeat(300)}0-0`]],
  ['If-None-Match', ['W/"x", "', '*', '"x1"', 'x1', 'W/', ',,,']],
  ['If-Match', ['"x1"', '*', 'zz', '"']],
  ['If-Modified-Since', ['garbage', 'Mon, 99 Foo 2020 99:99:99 GMT', '0', 'Sat, 01 Jan 10000 00:00:00 GMT']],
  ['If-Range', ['"x1"', 'W/"x1"', 'garbage']],
  ['Authorization', ['Basic %%%', `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}`, 'Bearer', 'Basic', 'Basic ===', 'Digest a="b']],
  ['Cache-Control', ['max-age=abc, no-cache="a', 'max-age=-1', 'max-age=99999999999999999999', ',,,']],
  ['X-Forwarded-For', ['garbage', '1.2.3.4, , ,', '999.1.1.1', '']],
  ['X-Forwarded-Proto', ['ftp', 'HTTPS', 'http, https', '']],
  ['X-Forwarded-Host', ['a b', 'example.com:99999', '[::1', '', 'a,b']],
  ['X-Forwarded-Prefix', ['%zz', 'p', '/%ff', '//x', '/a/../b']],
  ['Transfer-Encoding', ['gzip']],
];
const CONTENT_TYPES = [
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=XX',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=xx-unknown',
  'application/json; charset=utf-16',
  'application/json',
  'text/plain; charset=bogus',
  ';;;',
];
const BODIES = [
  '--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--XX--\r\n',
  '--XX\r\nContent-Disposition: form-data; name="f"; filename="../../etc/passwd"\r\n\r\nhello\r\n--XX--\r\n',
  '--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nv',
  '--XX\r\nbadheader\r\n\r\nv\r\n--XX--\r\n',
  "--XX\r\nContent-Disposition: form-data; name*=UTF-8''%zz\r\n\r\nv\r\n--XX--\r\n",
  `--XX\r\n${'X: y\r\n'.repeat(2000)}\r\nv\r\n--XX--\r\n`,
  'a=%zz&b=%ff&%c3=1&&=&c',
  '{"a":',
  '\xff\xfe\x00A',
  '',
  `a=${'%41'.repeat(5000)}`,
];

/** One request of the generator, as bytes. */
function hostileRequest(random: ReturnType<typeof generator>, port: number): Buffer {
  const method = random.pick(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'POST']);
  let path = random.pick(PREFIXES);
  for (let i = random.below(4); i > 0; i--) path += `/${random.pick(SEGMENTS)}`;
  if (!path.startsWith('/')) path = `/${path}`;
  if (random.chance(0.5)) path += `?${random.pick(QUERIES)}&${random.pick(QUERIES)}`;
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${random.chance(0.8) ? `127.0.0.1:${port}` : random.pick(HOSTS)}`];
  for (let i = random.below(6); i > 0; i--) {
    const [name, values] = random.pick(FIELDS);
    lines.push(`${name}: ${random.pick(values)}`);
  }
  let body = Buffer.alloc(0);
  if (method === 'POST' || method === 'PUT') {
    const content = Buffer.from(random.pick(BODIES), 'latin1');
    lines.push(`Content-Type: ${random.pick(CONTENT_TYPES)}`);
    if (random.chance(0.3) && !lines.some((line) => line.startsWith('Transfer-Encoding'))) {
      lines.push('Transfer-Encoding: chunked');
      const parts: Buffer[] = [];
      for (let at = 0; at < content.length; ) {
        const piece = content.subarray(at, at + 1 + random.below(300));
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
        at += piece.length;
      }
      body = Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
    } else {
      lines.push(`Content-Length: ${content.length}`);
      body = content;
    }
  }
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** Sends `request` on a new connection; everything the server sent until it closed, as latin1. */
function exchange(port: number, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer in 5 s to ${JSON.stringify(request.toString('latin1').slice(0, 300))}`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(request);
  });
}

/** What is wrong with one answer (`''` when nothing is). */
function faultOf(request: Buffer, answer: string): string {
  const head = request.toString('latin1').slice(0, 300);
  const end = answer.indexOf('\r\n\r\n');
  if (end === -1) return `no complete answer to ${JSON.stringify(head)}: ${JSON.stringify(answer.slice(0, 200))}`;
  const [statusLine, ...fields] = answer.slice(0, end).split('\r\n');
  const status = Number(statusLine!.split(' ')[1]);
  const rest = answer.slice(end + 4);
  if (status >= 500 && status !== 501) return `${statusLine} to ${JSON.stringify(head)}: ${rest.slice(0, 200)}`;
  const field = (name: string) => fields.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  if (request.toString('latin1').startsWith('HEAD ') || status === 304 || status === 204) return '';
  const length = field('content-length');
  if (length !== undefined && Number(length) !== rest.length) return `Content-Length ${length} but ${rest.length} bytes, to ${JSON.stringify(head)}`;
  if (field('transfer-encoding') === 'chunked' && !rest.endsWith('0\r\n\r\n')) return `a chunked body without its last chunk, to ${JSON.stringify(head)}`;
  return '';
}

/** An app that reads every part of the request the generator makes up. */
const inspect = Request.application(async (req) => {
  const seen: Record<string, unknown> = {
    host: req.host,
    port: req.port,
    url: req.url,
    query: [...req.query.keys()],
    cookies: Object.keys(req.cookies),
    accept: req.accept.bestMatch(['text/html', 'application/json']),
    language: req.acceptLanguage.bestMatch(['en', 'fr']),
    encoding: req.acceptEncoding.bestMatch(['gzip', 'br']),
    range: String(req.range),
    ifNoneMatch: String(req.ifNoneMatch),
    ifModifiedSince: String(req.ifModifiedSince),
    ifRange: String(req.ifRange),
    authorization: String(req.authorization?.scheme),
    cacheControl: req.cacheControl.maxAge,
    contentType: req.contentType,
    charset: req.charset,
  };
  const path = req.pathInfo;
  if (path.startsWith('/form')) seen.form = [...(await req.form()).keys()];
  else if (path.startsWith('/files')) seen.files = [...(await req.files()).keys()];
  else if (path.startsWith('/json')) seen.json = await req.json();
  else if (path.startsWith('/text')) seen.text = (await req.text()).length;
  const res = Response.json(seen);
  res.setCookie('seen', '1');
  res.etag = 'x1';
  res.conditionalResponse = true;
  return res;
});

describe('hostile and malformed requests in bulk', () => {
  it('answers every one with a complete 4xx (or a success), never a 500, and logs nothing', async () => {
    const app = compose(
      errors,
      (inner) => proxyFix(inner, { xFor: 1, xProto: 1, xHost: 1, xPrefix: 1 }),
      compress,
    )(mount({ '/m': inspect, '/auth': basicAuth(inspect, { verify: staticUsers({ u: 'p' }), realm: 'r' }), '': inspect }));
    const server = await start(app);
    const random = generator(20261203);
    const requests = Array.from({ length: 600 }, () => hostileRequest(random, server.port));
    const faults: string[] = [];
    const statuses = new Map<number, number>();
    for (let at = 0; at < requests.length; at += 8) {
      const batch = requests.slice(at, at + 8);
      const answers = await Promise.all(batch.map((request) => exchange(server.port, request)));
      answers.forEach((answer, i) => {
        const fault = faultOf(batch[i]!, answer);
        if (fault) faults.push(fault);
        const status = Number(answer.slice(9, 12));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
    }
    expect(faults).toEqual([]);
    expect(server.log.text).toBe('');
    // The generator reached the app's successes and its refusals, not only the server's 400s.
    for (const status of [200, 400, 401]) expect(statuses.get(status) ?? 0).toBeGreaterThan(5);
  });
});

describe('a Host no URL can carry', () => {
  it('answers 400 to a name ending in a number that is no IPv4 address, a bad IPv6 literal or a port alone, never a 500 from req.relativeUrl', async () => {
    const server = await start(Request.application((req) => req.relativeUrl('next')));
    const ask = async (host: string) => {
      const answer = await exchange(server.port, Buffer.from(`GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      return { status: Number(answer.slice(9, 12)), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
    };
    for (const host of ['999.1.1.1', '1.2.3.4.5', 'a.1', 'example.09', 'a.0x', ':80', '[::1::2]', '[1.2.3.4]:80']) {
      expect(await ask(host), host).toEqual({ status: 400, body: 'Bad Request: invalid Host header\n' });
    }
    for (const [host, url] of [['127.0.0.1:8000', 'http://127.0.0.1:8000/next'], ['a.b1', 'http://a.b1/next'], ['[::1]', 'http://[::1]/next'], ['example.com.', 'http://example.com./next']]) {
      expect(await ask(host!), host).toEqual({ status: 200, body: url });
    }
    expect(server.log.text).toBe('');
  });
});
