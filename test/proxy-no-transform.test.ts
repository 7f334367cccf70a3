/**
 * `Cache-Control: no-transform` through the response filters of tsgi/proxy, over real sockets:
 * "A proxy MUST NOT transform the content of a response message that contains a no-transform
 * cache directive" (RFC 9110 §7.7; RFC 9111 §5.2.2.6). The filtered answer is the one the bare
 * proxy gives, fields and bytes, while the same page without the directive is rewritten.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { type ProxyApp, decodeContent, proxy, replaceText, rewriteHtml, rewriteLocation } from 'tsgi/proxy';
import { type ClientResponse, request } from './node-helpers.ts';

const HTML = '<html><head></head><body><a href="UP/about">about</a> old text</body></html>';
const TEXT = 'the old text, and more old text\n';

let upstream: http.Server;
let origin: string;
let bare: ProxyApp;
let filtered: ProxyApp;
let front: ServerHandle;
/** The paths the upstream was asked for, in order. */
const asked: string[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    asked.push(req.url!);
    const path = req.url!.split('?')[0]!;
    const cc = path.includes('/nt/') ? { 'cache-control': 'public, max-age=60, no-transform' } : {};
    const validators = { etag: '"v1"', 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT', 'accept-ranges': 'bytes', 'content-md5': 'ab/cd==' };
    if (path.endsWith('/page')) {
      const body = Buffer.from(HTML.replaceAll('UP', origin));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, ...validators, ...cc }).end(body);
    } else if (path.endsWith('/text')) {
      // The directive on a second Cache-Control line: the lines are one list (RFC 9110 §5.3).
      const body = Buffer.from(TEXT);
      const headers: Record<string, string | number | string[]> = { 'content-type': 'text/plain', 'content-length': body.length, ...validators };
      if (path.includes('/nt/')) headers['cache-control'] = ['max-age=60', 'No-Transform'];
      res.writeHead(200, headers).end(body);
    } else if (path.endsWith('/gzip')) {
      const body = gzipSync(HTML.replaceAll('UP', origin));
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': body.length, ...validators, ...cc }).end(body);
    } else if (path.endsWith('/range')) {
      const body = Buffer.from(TEXT);
      if (req.headers.range === 'bytes=0-6') {
        res.writeHead(206, { 'content-type': 'text/plain', 'content-range': `bytes 0-6/${body.length}`, 'content-length': 7, ...validators, ...cc }).end(body.subarray(0, 7));
      } else res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, ...validators, ...cc }).end(body);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  bare = proxy(origin);
  filtered = proxy(origin);
  const filters = rewriteLocation(
    rewriteHtml(
      replaceText(decodeContent(filtered), { replacements: [['old text', 'new text']] }),
      { upstream: [origin], elements: { body: (el) => el.prepend('<p>banner</p>', { html: true }) } },
    ),
    { upstream: [origin] },
  );
  front = await serve(mount({ '/bare': bare, '/filtered': filters }), { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await front.close();
  await bare.close();
  await filtered.close();
  await new Promise((done) => upstream.close(done));
});

/** The raw name/value pairs of an answer but `Date`. */
function pairsOf(reply: ClientResponse): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) if (reply.rawHeaders[i]!.toLowerCase() !== 'date') pairs.push([reply.rawHeaders[i]!, reply.rawHeaders[i + 1]!]);
  return pairs;
}

describe('no-transform through the response filters', () => {
  it('rewrites the pages without the directive (the filters are at work)', async () => {
    const page = await request(`${front.url}/filtered/page`);
    expect(page.body.toString()).toBe(HTML.replace('<body>', '<body><p>banner</p>').replace('UP', `${front.url}/filtered`).replace('old text', 'new text'));
    expect(page.headers.etag).toBe('W/"v1"');
    expect((await request(`${front.url}/filtered/text`)).body.toString()).toBe(TEXT.replaceAll('old text', 'new text'));
    expect((await request(`${front.url}/filtered/gzip`)).headers['content-encoding']).toBeUndefined();
  });

  it.each(['page', 'text', 'gzip'])('passes /nt/%s through as the bare proxy does: every field, every byte', async (name) => {
    const plain = await request(`${front.url}/bare/nt/${name}`);
    const reply = await request(`${front.url}/filtered/nt/${name}`);
    expect(reply.status).toBe(200);
    expect(pairsOf(reply)).toEqual(pairsOf(plain));
    expect(reply.headers['content-length']).toBe(String(plain.body.length));
    expect(reply.body.equals(plain.body)).toBe(true);
  });

  it('answers a range request for a no-transform text with the part, asking the upstream once', async () => {
    const plain = await request(`${front.url}/bare/nt/range`, { headers: { Range: 'bytes=0-6' } });
    asked.length = 0;
    const reply = await request(`${front.url}/filtered/nt/range`, { headers: { Range: 'bytes=0-6' } });
    expect(reply.status).toBe(206);
    expect(pairsOf(reply)).toEqual(pairsOf(plain));
    expect(reply.body.toString()).toBe('the old');
    expect(asked).toEqual(['/nt/range']);
  });

  it('answers HEAD of a no-transform page with its own fields', async () => {
    const plain = await request(`${front.url}/bare/nt/page`, { method: 'HEAD' });
    const reply = await request(`${front.url}/filtered/nt/page`, { method: 'HEAD' });
    expect(pairsOf(reply)).toEqual(pairsOf(plain));
    expect(reply.headers.etag).toBe('"v1"');
  });
});
