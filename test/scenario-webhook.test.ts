/**
 * Scenario: a webhook receiver built as docs/request.md ("Receiving webhooks") shows it, GitHub
 * and Stripe style, driven over a socket as their senders and a few hostile clients drive it:
 * the HMAC-SHA256 is checked over the bytes as sent (a gzip body over its gzip bytes, above
 * `decodeBody`), the body is read once and re-read after `req.json()`, replays are answered
 * `200` and not handled again, the answer (`202`) does not wait for the work after it
 * (`res.callOnClose`), the body limit holds while a chunked body streams (the server reads
 * about the limit, not the whole body), a stalled body is a `408`, a client that leaves
 * mid-body is a `499` in the access log and nothing in the error log.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HTTPBadRequest, HTTPUnsupportedMediaType, Request, Response, compose, defineMiddleware } from 'tsgi';
import { accessLog, decodeBody } from 'tsgi/middleware';
import { deferred, rawExchange, request, start, until } from './node-helpers.ts';

const secret = 'whsec_scenario';
/** The body limit: GitHub's 25 MB scaled down, so the test sends 4 times it quickly. */
const maxBodySize = 2 * 1024 ** 2;
/** One network read: what the server may take past the limit before the read that passes it fails. */
const ONE_READ = 64 * 1024;

const hmac = (...parts: (string | Uint8Array)[]) => parts.reduce((h, part) => h.update(part), createHmac('sha256', secret)).digest();
const sameBytes = (given: string, expected: Buffer) => {
  const bytes = Buffer.from(given, 'hex');
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
};

/** GitHub's `X-Hub-Signature-256` or Stripe's `Stripe-Signature` (5 minutes of tolerance), over the bytes as sent. */
const verify = defineMiddleware({
  async before(req) {
    if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
    const raw = await req.bytes({ maxBodySize });
    const github = req.headers.get('X-Hub-Signature-256');
    const stripe = req.headers.get('Stripe-Signature');
    if (github !== null) {
      const given = /^sha256=([0-9a-f]{64})$/.exec(github)?.[1];
      if (given === undefined || !sameBytes(given, hmac(raw))) throw new HTTPBadRequest('Bad signature.');
    } else if (stripe !== null) {
      const t = Number(/(?:^|,)t=(\d+)/.exec(stripe)?.[1]);
      const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(stripe)?.[1];
      if (!Number.isSafeInteger(t) || v1 === undefined) throw new HTTPBadRequest('Malformed Stripe-Signature.');
      if (Math.abs(Date.now() / 1000 - t) > 300) throw new HTTPBadRequest('Timestamp outside the tolerance.');
      if (!sameBytes(v1, hmac(`${t}.`, raw))) throw new HTTPBadRequest('Bad signature.');
    } else throw new HTTPBadRequest('No signature.');
  },
});

interface Receiver {
  port: number;
  url: string;
  /** The delivery ids whose work ran, in order. */
  handled: string[];
  /** The length of `req.bytes()` read after `req.json()`, per delivery id. */
  reread: Map<string, number>;
  /** The access log, one parsed JSON line per request. */
  access: Record<string, unknown>[];
  errors: () => string;
  /** Requests that reached the app. */
  readonly entered: number;
  /** Holds the work after the answer until released. */
  gate: { promise: Promise<void>; resolve: () => void };
}

async function receiver(): Promise<Receiver> {
  const handled: string[] = [];
  const reread = new Map<string, number>();
  const access: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  const gate = deferred();
  gate.resolve();
  const box = { gate, entered: 0 };
  const receive = Request.application(async (req) => {
    const event = (await req.json({ maxBodySize })) as { id?: unknown };
    const id = req.headers.get('X-GitHub-Delivery') ?? (typeof event.id === 'string' ? event.id : null);
    if (id === null) throw new HTTPBadRequest('No delivery id.');
    reread.set(id, (await req.bytes()).length);
    if (seen.has(id)) return Response.json({ duplicate: true });
    seen.add(id);
    const res = Response.json({ received: true }, { status: 202 });
    const held = box.gate.promise;
    res.callOnClose(async () => {
      await held;
      handled.push(id);
    });
    return res;
  });
  const counted = defineMiddleware({
    before() {
      box.entered++;
    },
  });
  const app = compose((inner) => accessLog(inner, { format: 'json', log: { write: (line: string) => void access.push(JSON.parse(line)) } }), counted, verify, decodeBody)(receive);
  const server = await start(app, { host: '127.0.0.1', bodyTimeout: 300 });
  const result: Receiver = {
    port: Number(new URL(server.url).port),
    url: server.url,
    handled,
    reread,
    access,
    errors: () => server.log.text,
    get entered() {
      return box.entered;
    },
    get gate() {
      return box.gate;
    },
    set gate(value) {
      box.gate = value;
    },
  };
  return result;
}

let serial = 0;
const newId = () => `delivery-${++serial}`;
const event = (id: string) => JSON.stringify({ id, action: 'opened', note: 'café' });
const github = (body: string | Uint8Array, id: string, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-github-delivery': id,
  'x-hub-signature-256': `sha256=${hmac(body).toString('hex')}`,
  ...extra,
});
const stripe = (body: string, t = Math.floor(Date.now() / 1000)) => ({
  'content-type': 'application/json',
  'stripe-signature': `t=${t},v1=${hmac(`${t}.`, body).toString('hex')}`,
});
const post = async (r: Receiver, body: string | Uint8Array, headers: Record<string, string>) => {
  const res = await request(r.url, { method: 'POST', body, headers });
  return { status: res.status, reason: res.body.toString().trim().split('\n').pop() };
};

describe('scenario: a webhook receiver (GitHub and Stripe style)', () => {
  it('answers a signed delivery 202 before its work runs, runs the work once, and answers a replay 200', async () => {
    const r = await receiver();
    r.gate = deferred();
    const id = newId();
    const body = event(id);
    expect(await post(r, body, github(body, id))).toEqual({ status: 202, reason: '{"received":true}' });
    expect(r.handled).toEqual([]); // answered while the work waits
    r.gate.resolve();
    await until(() => r.handled.includes(id));
    expect(await post(r, body, github(body, id))).toEqual({ status: 200, reason: '{"duplicate":true}' });
    const evt = newId();
    const stripeBody = event(evt);
    expect((await post(r, stripeBody, stripe(stripeBody))).status).toBe(202);
    expect((await post(r, stripeBody, stripe(stripeBody))).status).toBe(200);
    // Five at once with one id: one 202, four duplicates, the work once.
    const twin = newId();
    const statuses = await Promise.all(Array.from({ length: 5 }, () => post(r, event(twin), github(event(twin), twin)).then((a) => a.status)));
    expect(statuses.sort()).toEqual([200, 200, 200, 200, 202]);
    // Twelve different deliveries at once, of growing sizes.
    const ids = Array.from({ length: 12 }, newId);
    const many = await Promise.all(ids.map((d, i) => post(r, event(d) + ' '.repeat(i * 5000), github(event(d) + ' '.repeat(i * 5000), d)).then((a) => a.status)));
    expect(many).toEqual(Array(12).fill(202));
    await until(() => ids.every((d) => r.handled.includes(d)));
    expect(r.handled.filter((d) => d === twin || d === id || d === evt)).toEqual([id, evt, twin]);
    expect(r.errors()).toBe('');
  });

  it('refuses bad signatures, stale timestamps and other media types with a short 4xx; a charset parameter is fine', async () => {
    const r = await receiver();
    const id = newId();
    const body = event(id);
    const now = Math.floor(Date.now() / 1000);
    const cases: [string | Uint8Array, Record<string, string>, number, RegExp][] = [
      [body, { ...github(body, id), 'x-hub-signature-256': `sha256=${createHmac('sha256', 'another').update(body).digest('hex')}` }, 400, /^Bad signature\.$/],
      [body, { ...github(body, id), 'x-hub-signature-256': `sha1=${hmac(body).toString('hex')}` }, 400, /^Bad signature\.$/],
      [body, { ...github(body, id), 'x-hub-signature-256': `sha256=${hmac(body).toString('hex').slice(0, 40)}` }, 400, /^Bad signature\.$/],
      [JSON.stringify(JSON.parse(body), null, 2), github(body, id), 400, /^Bad signature\.$/], // the same JSON, other bytes
      [body, { 'content-type': 'application/json', 'x-github-delivery': id }, 400, /^No signature\.$/],
      [body, stripe(body, now - 301), 400, /^Timestamp outside the tolerance\.$/],
      [body, stripe(body, now + 301), 400, /^Timestamp outside the tolerance\.$/],
      [body, { ...stripe(body), 'stripe-signature': 'garbage' }, 400, /^Malformed Stripe-Signature\.$/],
      [body, { ...github(body, id), 'content-type': 'text/plain' }, 415, /^Send application\/json\.$/],
      [body, { ...github(body, id), 'content-type': 'application/x-www-form-urlencoded' }, 415, /^Send application\/json\.$/],
      ['', github('', newId()), 400, /^The body is empty: a JSON value was expected\.$/],
      ['{"id":', github('{"id":', newId()), 400, /^The body is not valid JSON: /],
    ];
    for (const [payload, headers, status, reason] of cases) {
      const answer = await post(r, payload, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(status);
      expect(answer.reason).toMatch(reason);
    }
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
      const d = newId();
      expect((await post(r, event(d), github(event(d), d, { 'content-type': type }))).status).toBe(202);
    }
    expect(r.errors()).toBe('');
  });

  it('checks a gzip delivery over the bytes sent, reads it decoded, and re-reads the body after req.json()', async () => {
    const r = await receiver();
    const id = newId();
    const body = event(id);
    const coded = gzipSync(body);
    expect((await post(r, coded, github(coded, id, { 'content-encoding': 'gzip' }))).status).toBe(202);
    expect(r.reread.get(id)).toBe(Buffer.byteLength(body)); // the decoded bytes, read again after json()
    const plain = newId();
    expect((await post(r, event(plain), github(event(plain), plain))).status).toBe(202);
    expect(r.reread.get(plain)).toBe(Buffer.byteLength(event(plain)));
    expect(r.access.at(-2)).toMatchObject({ status: 202, body_bytes_read: coded.length }); // the coded bytes, counted
    // Signed over what it decodes to (as express.raw(), which inflates, checks): not the bytes sent.
    const other = newId();
    const otherCoded = gzipSync(event(other));
    expect(await post(r, otherCoded, github(event(other), other, { 'content-encoding': 'gzip' }))).toEqual({ status: 400, reason: 'Bad signature.' });
    const junk = Buffer.from('not gzip');
    expect((await post(r, junk, github(junk, newId(), { 'content-encoding': 'gzip' }))).status).toBe(400);
    expect((await post(r, coded, github(coded, newId(), { 'content-encoding': 'x-unknown' }))).status).toBe(415);
    expect(r.errors()).toBe('');
  });

  it('refuses a body past the limit: a declared one before it is sent, a chunked one within a read of the limit', async () => {
    const r = await receiver();
    const declared = await rawExchange(
      r.port,
      `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: ${4 * maxBodySize}\r\n\r\n`,
    );
    expect(declared.raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.raw).not.toContain('100 Continue');
    // A chunked body four times the limit, written with backpressure: the server stops at the limit.
    const chunked = await new Promise<string>((resolve) => {
      const socket = net.connect(r.port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nTransfer-Encoding: chunked\r\n\r\n');
      const piece = Buffer.alloc(256 * 1024, 0x20);
      void (async () => {
        for (let sent = 0; sent < 4 * maxBodySize && !socket.destroyed && got === ''; sent += piece.length) {
          socket.write(`${piece.length.toString(16)}\r\n`);
          socket.write(piece);
          if (!socket.write('\r\n')) await new Promise((drained) => (socket.once('drain', drained), socket.once('close', drained)));
        }
        await until(() => got !== '' || socket.destroyed);
        socket.destroy();
      })();
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    const line = r.access.at(-1)!;
    expect(line.status).toBe(413);
    expect(line.body_bytes_read).toBeGreaterThan(maxBodySize);
    expect(line.body_bytes_read).toBeLessThanOrEqual(maxBodySize + ONE_READ);
    expect(r.errors()).toBe('');
  });

  it('answers a stalled body 408, logs a client gone mid-body as 499 without an error, and goes on serving', async () => {
    const r = await receiver();
    const stalled = await rawExchange(
      r.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 100\r\n\r\n{"id":"slo',
    );
    expect(stalled.raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.access.at(-1)).toMatchObject({ status: 408, body_bytes_read: 10 });
    const gone = net.connect(r.port, '127.0.0.1');
    gone.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 1000\r\n\r\n{"id":"gone');
    await until(() => r.entered === 2); // the app is reading its body
    gone.destroy();
    await until(() => r.access.length === 2);
    expect(r.access[1]).toMatchObject({ status: 499, outcome: 'close' });
    const id = newId();
    expect((await post(r, event(id), github(event(id), id))).status).toBe(202);
    await until(() => r.handled.includes(id));
    expect(r.errors()).toBe('');
  });
});
