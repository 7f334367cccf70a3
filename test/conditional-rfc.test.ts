/**
 * RFC 9110 §13–§14 edge cases of `conditionalResponse`, over a real socket: what a range
 * request gets when the representation has a content coding of its own.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { compress, mount } from 'tsgi/middleware';
import { rewriteHtml } from 'tsgi/proxy';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const TEXT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(40);
const CODED = gzipSync(TEXT);

/** A pre-gzipped representation (a blob stored compressed), served with `conditionalResponse`. */
const coded = Request.application(() => {
  const res = new Response(CODED, {
    conditionalResponse: true,
    contentType: 'text/plain',
    headers: { 'Content-Encoding': 'gzip' },
  });
  res.etag = 'g1';
  return res;
});

async function get(extra: string): Promise<ReturnType<typeof parseRaw> & { bytes: Buffer }> {
  const server = await start(coded);
  const { raw } = await rawExchange(server.port, rawGet('/', extra));
  const response = parseRaw(raw);
  return { ...response, bytes: Buffer.from(response.rest, 'latin1') };
}

describe('ranges of a representation with a content coding (RFC 9110 §14.1.1)', () => {
  it('one range is a 206 of the coded bytes, Content-Encoding kept', async () => {
    const res = await get('Range: bytes=0-9\r\n');
    expect(res.status).toBe(206);
    expect(res.header('content-encoding')).toBe('gzip');
    expect(res.header('content-range')).toBe(`bytes 0-9/${CODED.byteLength}`);
    expect(res.bytes.equals(CODED.subarray(0, 10))).toBe(true);
  });

  it('several ranges get the whole coded 200, never a multipart body labelled gzip', async () => {
    const res = await get('Range: bytes=0-9,20-29\r\n');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.header('content-encoding')).toBe('gzip');
    expect(res.header('content-length')).toBe(String(CODED.byteLength));
    expect(gunzipSync(res.bytes).toString()).toBe(TEXT);
  }, 10_000);
});

describe('If-Range with a date (RFC 9110 §13.1.5, §8.8.2.2)', () => {
  const MODIFIED = 'Mon, 01 Jan 2024 12:00:00 GMT';
  /** A document modified at `MODIFIED`, sent at `sent` (the response's `Date`). */
  const dated = (sent: string) =>
    Request.application(() => {
      const res = new Response(TEXT, { conditionalResponse: true, contentType: 'text/plain', headers: { Date: sent } });
      res.lastModified = new Date(MODIFIED);
      return res;
    });
  const resume = async (sent: string) => {
    const server = await start(dated(sent));
    return parseRaw((await rawExchange(server.port, rawGet('/', `Range: bytes=10-19\r\nIf-Range: ${MODIFIED}\r\n`))).raw);
  };

  it('a Last-Modified in the second of the Date is not a strong validator: the whole 200', async () => {
    const res = await resume(MODIFIED);
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe(String(TEXT.length));
    expect(res.rest).toBe(TEXT);
  });

  it('one at least a second before the Date is: the 206', async () => {
    const res = await resume('Mon, 01 Jan 2024 12:00:01 GMT');
    expect(res.status).toBe(206);
    expect(res.rest).toBe(TEXT.slice(10, 20));
  });
});

describe('a download resumed by date under compress (RFC 9110 §13.1.5)', () => {
  const MODIFIED = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
  const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
  let calls: string[] = [];
  /** Documents with a Last-Modified and no ETag: a client's If-Range can only hold the date. */
  const documents = Request.application((req) => {
    calls.push(`${req.scriptName}|${req.pathInfo}|${req.headers.get('Range') ?? '-'}`);
    const type = req.pathInfo === '/image' ? 'image/png' : 'text/plain';
    const res = new Response(LONG, { conditionalResponse: true, contentType: type });
    res.lastModified = MODIFIED;
    return res;
  });
  const app = compress(mount({ '/docs': documents }));
  const resume = async (path: string, extra: string, range = 'bytes=100-') => {
    calls = [];
    const server = await start(app);
    const { raw } = await rawExchange(server.port, rawGet(path, `Accept-Encoding: gzip\r\nRange: ${range}\r\n${extra}`));
    const res = parseRaw(raw);
    return { ...res, bytes: Buffer.from(res.rest, 'latin1') };
  };

  it('the whole coded 200, not identity bytes to splice onto the gzip ones the client has', async () => {
    const res = await resume('/docs/page', `If-Range: ${MODIFIED.toUTCString()}\r\n`);
    expect(res.status).toBe(200);
    expect(res.header('content-encoding')).toBe('gzip');
    expect(res.header('content-range')).toBeUndefined();
    expect(gunzipSync(res.bytes).toString()).toBe(LONG);
    // Asked again from where the first call was routed, without Range.
    expect(calls).toEqual(['/docs|/page|bytes=100-', '/docs|/page|-']);
  });

  it('a type compress leaves alone, or no If-Range, keeps its 206 of identity bytes', async () => {
    const image = await resume('/docs/image', `If-Range: ${MODIFIED.toUTCString()}\r\n`);
    expect(image.status).toBe(206);
    expect(image.rest).toBe(LONG.slice(100));
    expect(calls).toHaveLength(1);
    const blind = await resume('/docs/page', '');
    expect(blind.status).toBe(206);
    expect(blind.header('content-encoding')).toBeUndefined();
    expect(blind.rest).toBe(LONG.slice(100));
  });

  it('several ranges resumed by date get the whole coded 200 too, not identity parts of it', async () => {
    const ranges = 'bytes=100-199,300-399';
    const res = await resume('/docs/page', `If-Range: ${MODIFIED.toUTCString()}\r\n`, ranges);
    expect([res.status, res.header('content-encoding'), res.header('content-type')]).toEqual([200, 'gzip', 'text/plain; charset=utf-8']);
    expect(gunzipSync(res.bytes).toString()).toBe(LONG);
    expect(calls).toEqual([`/docs|/page|${ranges}`, '/docs|/page|-']);
    // The parts of a type compress leaves alone stay parts, asked for again once the whole told.
    const image = await resume('/docs/image', `If-Range: ${MODIFIED.toUTCString()}\r\n`, ranges);
    expect([image.status, image.header('content-encoding'), image.header('content-type')?.split(';')[0]]).toEqual([206, undefined, 'multipart/byteranges']);
    expect(image.rest).toContain(`Content-Range: bytes 100-199/${LONG.length}\r\n\r\n${LONG.slice(100, 200)}\r\n`);
    expect(calls).toEqual([`/docs|/image|${ranges}`, '/docs|/image|-', `/docs|/image|${ranges}`]);
  });
});

describe('asking the app again for the whole of a part', () => {
  const MODIFIED = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
  const LONG = '<p>All work and no play makes Jack a dull boy.</p>'.repeat(200);

  /**
   * An app behind a pool of one connection (a SQLite handle, a single upstream socket): its
   * body holds the connection until it ends or is closed, and the next call waits for it.
   */
  function pooled(type: string) {
    const pool = { busy: false, waiting: [] as Array<() => void> };
    const release = () => {
      pool.busy = false;
      pool.waiting.shift()?.();
    };
    const rows = async function* () {
      try {
        for (let at = 0; at < LONG.length; at += 1000) yield new TextEncoder().encode(LONG.slice(at, at + 1000));
      } finally {
        release();
      }
    };
    const app = Request.application(async () => {
      while (pool.busy) await new Promise<void>((resolve) => pool.waiting.push(resolve));
      pool.busy = true;
      const res = new Response(rows(), { conditionalResponse: true, contentType: type, headers: { 'Content-Length': String(LONG.length) } });
      res.lastModified = MODIFIED;
      return res;
    });
    return { app, pool };
  }

  /** The raw answer to a GET with `extra` fields, or 'hung' after 2 s. */
  async function getOrHang(app: Parameters<typeof start>[0], extra: string) {
    const server = await start(app);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 2_000)));
    const answer = await Promise.race([rawExchange(server.port, rawGet('/', extra)), hung]).finally(() => clearTimeout(timer));
    return answer === 'hung' ? answer : parseRaw(answer.raw);
  }

  it('compress closes the part first: a body holding the only connection frees it for the second call', async () => {
    const { app, pool } = pooled('text/plain');
    const res = await getOrHang(compress(app), `Accept-Encoding: gzip\r\nRange: bytes=100-\r\nIf-Range: ${MODIFIED.toUTCString()}\r\n`);
    expect(res).not.toBe('hung');
    if (res === 'hung') return;
    expect([res.status, res.header('content-encoding')]).toEqual([200, 'gzip']);
    expect(pool.busy).toBe(false);
  }, 10_000);

  it('compress closes a part of several ranges first too, whether the whole is coded or not', async () => {
    for (const type of ['text/plain', 'image/png']) {
      const { app, pool } = pooled(type);
      const res = await getOrHang(compress(app), `Accept-Encoding: gzip\r\nRange: bytes=100-199,300-399\r\nIf-Range: ${MODIFIED.toUTCString()}\r\n`);
      expect(res, type).not.toBe('hung');
      if (res === 'hung') return;
      expect([res.status, res.header('content-encoding')], type).toEqual(type === 'image/png' ? [206, undefined] : [200, 'gzip']);
      expect(pool.busy, type).toBe(false);
    }
  }, 10_000);

  it('so does a body filter (rewriteHtml) replacing a part with the rewritten whole', async () => {
    const { app, pool } = pooled('text/html');
    const filtered = rewriteHtml(app, { elements: { p: (el) => void el.setAttribute('class', 'x') } });
    const res = await getOrHang(filtered, 'Range: bytes=100-\r\n');
    expect(res).not.toBe('hung');
    if (res === 'hung') return;
    expect([res.status, res.header('content-range')]).toEqual([200, undefined]);
    expect(res.rest).toContain('<p class="x">All work');
    expect(pool.busy).toBe(false);
  }, 10_000);
});

describe('ranges that add up to more than the representation (RFC 9110 §14.2)', () => {
  it('are coalesced, so the 206 never carries more bytes than the whole', async () => {
    const server = await start(Request.application(() => new Response(TEXT, { conditionalResponse: true, contentType: 'text/plain' })));
    const ask = async (range: string) => parseRaw((await rawExchange(server.port, rawGet('/', `Range: ${range}\r\n`))).raw);
    // 50 copies of the whole (Go's net/http ignores such a header; merged, it is one range).
    const copies = await ask(`bytes=${Array(50).fill('0-').join(',')}`);
    expect([copies.status, copies.header('content-range'), copies.rest.length]).toEqual([206, `bytes 0-${TEXT.length - 1}/${TEXT.length}`, TEXT.length]);
    const overlapping = await ask('bytes=0-599,500-1039,10-20');
    expect([overlapping.status, overlapping.header('content-range'), overlapping.rest]).toEqual([206, `bytes 0-1039/${TEXT.length}`, TEXT.slice(0, 1040)]);
  });
});

describe('digests of a part (RFC 9530 §2, §3)', () => {
  it("a 206 drops the whole content's Content-Digest and Content-MD5, and keeps Repr-Digest", async () => {
    const content = `sha-256=:${createHash('sha256').update(TEXT).digest('base64')}:`;
    const md5 = createHash('md5').update(TEXT).digest('base64');
    const server = await start(
      Request.application(
        () =>
          new Response(TEXT, {
            conditionalResponse: true,
            contentType: 'text/plain',
            headers: { 'Content-Digest': content, 'Repr-Digest': content, 'Content-MD5': md5 },
          }),
      ),
    );
    const ask = async (range: string) => parseRaw((await rawExchange(server.port, rawGet('/', range === '' ? '' : `Range: ${range}\r\n`))).raw);
    const whole = await ask('');
    expect([whole.status, whole.header('content-digest'), whole.header('content-md5')]).toEqual([200, content, md5]);
    for (const range of ['bytes=0-9', 'bytes=0-9,20-29']) {
      const part = await ask(range);
      expect(part.status, range).toBe(206);
      // Of the content sent, which a part's is not: a client checking it would refuse the part.
      expect(part.header('content-digest'), range).toBeUndefined();
      expect(part.header('content-md5'), range).toBeUndefined();
      // Of the representation, which the part is a range of (RFC 9530 Appendix B.3).
      expect(part.header('repr-digest'), range).toBe(content);
    }
  });

  it('a 304 drops Content-Digest with Content-MD5 (no content to be the digest of), and keeps Repr-Digest', async () => {
    const content = `sha-256=:${createHash('sha256').update(TEXT).digest('base64')}:`;
    const server = await start(
      Request.application(() => {
        const res = new Response(TEXT, { conditionalResponse: true, contentType: 'text/plain', headers: { 'Content-Digest': content, 'Repr-Digest': content, 'Content-MD5': 'x' } });
        res.etag = 'v1';
        return res;
      }),
    );
    const notModified = parseRaw((await rawExchange(server.port, rawGet('/', 'If-None-Match: "v1"\r\n'))).raw);
    expect(notModified.status).toBe(304);
    expect(notModified.header('content-digest')).toBeUndefined();
    expect(notModified.header('content-md5')).toBeUndefined();
    // Of the representation the cache holds, which it may check its copy against.
    expect(notModified.header('repr-digest')).toBe(content);
  });
});
