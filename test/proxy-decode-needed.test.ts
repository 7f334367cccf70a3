/**
 * `decodeContent` decodes for the filters only what they read: a gzip'd download from an
 * upstream that gzips every type (Apache's `SetOutputFilter DEFLATE`) reaches a client that
 * takes gzip as it came (length, strong ETag, 206 parts), and is decoded for one that does not;
 * text is decoded for every client. Over sockets, the upstream a tsgi app behind `proxy`.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { decodeContent, proxy, replaceText } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

const PDF = Buffer.alloc(50_000, 7);
const ZIPPED = gzipSync(PDF);
const PAGE = gzipSync('<p>Legacy Corp</p>'.repeat(200));

/** `/manual.pdf` and `/page.html` in gzip (a part of the gzip bytes for Range), as the client's Accept-Encoding allows. */
const upstreamApp: App = (environ, startResponse) => {
  const gzip = /gzip/.test(String(environ.HTTP_ACCEPT_ENCODING ?? ''));
  const pdf = environ.PATH_INFO === '/manual.pdf';
  const body = pdf ? (gzip ? ZIPPED : PDF) : PAGE;
  const headers: Array<[string, string]> = [['Content-Type', pdf ? 'application/pdf' : 'text/html'], ['ETag', gzip ? '"m-gz"' : '"m"'], ['Accept-Ranges', 'bytes']];
  if (gzip || !pdf) headers.push(['Content-Encoding', 'gzip']);
  const range = /^bytes=(\d+)-(\d+)$/.exec(String(environ.HTTP_RANGE ?? ''));
  if (range) {
    startResponse('206 Partial Content', [...headers, ['Content-Range', `bytes ${range[1]}-${range[2]}/${body.length}`]]);
    return [body.subarray(Number(range[1]), Number(range[2]) + 1)];
  }
  startResponse('200 OK', [...headers, ['Content-Length', String(body.length)]]);
  return [body];
};

let legacy: ReturnType<typeof proxy> | undefined;
afterAll(() => legacy?.close());

/** The gateway over the upstream, both closed after the test (node-helpers' `start`). */
async function gateway(): Promise<string> {
  const upstream = await start(upstreamApp);
  await legacy?.close();
  legacy = proxy(upstream.url);
  return (await start(compress(replaceText(decodeContent(legacy), { replacements: [['Legacy Corp', 'Example Inc']] })))).url;
}

describe('decodeContent decodes what the filters read', () => {
  it('passes a gzip download to a client that takes gzip as the upstream sent it', async () => {
    const url = await gateway();
    const res = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect([res.status, res.headers['content-encoding'], res.headers['content-length'], res.headers.etag]).toEqual([200, 'gzip', String(ZIPPED.length), '"m-gz"']);
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(res.body).equals(PDF)).toBe(true);
    const part = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-9' } });
    expect([part.status, part.headers['content-range'], part.body.length]).toEqual([206, `bytes 0-9/${ZIPPED.length}`, 10]);
  });

  it('decodes it for a client that does not take gzip, saying it varies', async () => {
    const url = await gateway();
    const res = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip;q=0, br' } });
    expect([res.status, res.headers['content-encoding'], res.headers.etag]).toEqual([200, undefined, 'W/"m-gz"']);
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.body.equals(PDF)).toBe(true);
  });

  it('decodes the text a filter reads for every client, and decodes everything with filter: () => true', async () => {
    const url = await gateway();
    const res = await request(`${url}/page.html`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(res.body).toString()).toContain('Example Inc');
    const all = await start(decodeContent(legacy!, { filter: () => true }));
    const decoded = await request(`${all.url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip' } });
    expect([decoded.headers['content-encoding'], decoded.body.equals(PDF)]).toEqual([undefined, true]);
    expect(() => decodeContent(legacy!, { fliter: () => true } as never)).toThrow(TypeError);
  });
});

describe('decodeContent judges each answer once', () => {
  /** The gateway with a `filter` that takes text only and counts its calls, and the count. */
  async function counted(): Promise<{ url: string; calls: string[] }> {
    await gateway();
    const calls: string[] = [];
    const filter = (type: string) => {
      calls.push(type);
      return type.startsWith('text/');
    };
    return { url: (await start(decodeContent(legacy!, { filter }))).url, calls };
  }

  it('calls the filter once per answer, with the same answers and Vary', async () => {
    const { url, calls } = await counted();
    const taken = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip' } });
    expect([taken.headers['content-encoding'], taken.headers.etag, /accept-encoding/i.test(String(taken.headers.vary))]).toEqual(['gzip', '"m-gz"', true]);
    expect(calls.splice(0)).toEqual(['application/pdf']);
    const refused = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip;q=0, br' } });
    expect([refused.headers['content-encoding'], refused.body.equals(PDF), /accept-encoding/i.test(String(refused.headers.vary))]).toEqual([undefined, true, true]);
    expect(calls.splice(0)).toEqual(['application/pdf']);
    const page = await request(`${url}/page.html`, { headers: { 'accept-encoding': 'gzip' } });
    expect([page.headers['content-encoding'], page.body.toString().startsWith('<p>Legacy Corp</p>'), page.headers.vary]).toEqual([undefined, true, undefined]);
    expect(calls.splice(0)).toEqual(['text/html']);
  });

  it('calls it once for a part passed on, and once for each of a part and the whole sent in its place', async () => {
    const { url, calls } = await counted();
    const part = await request(`${url}/manual.pdf`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-9' } });
    expect([part.status, part.body.length, /accept-encoding/i.test(String(part.headers.vary))]).toEqual([206, 10, true]);
    expect(calls.splice(0)).toEqual(['application/pdf']);
    const whole = await request(`${url}/page.html`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-9' } });
    expect([whole.status, whole.headers['content-encoding'], whole.body.toString().startsWith('<p>Legacy Corp</p>')]).toEqual([200, undefined, true]);
    expect(calls.splice(0)).toEqual(['text/html', 'text/html']);
  });
});
