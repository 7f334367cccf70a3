/**
 * examples/webhooks.ts, a Stripe-style webhook receiver: signatures over the raw bytes,
 * replay and duplicate protection, short 4xx reasons, and the event handled after the answer
 * (`res.callOnClose`), in-process with the test client (which waits for that work) and over a
 * socket (the answer does not wait for it; `close()` does).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { serve } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';
import { type WebhookEvent, createWebhooks, parseSignatureHeader, sign } from '../examples/webhooks.ts';

const secret = 'whsec_test';
const NOW = 1_700_000_000_000;

function receiver(handle: (event: WebhookEvent) => unknown = () => {}) {
  return new TestClient(createWebhooks({ secret, handle, now: () => NOW }));
}

/** The fields a sender posts `body` with, signed at `t` (seconds). */
function signed(body: string | Uint8Array, t = NOW / 1000, extra: Record<string, string> = {}) {
  return { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sign(secret, t, body)}`, ...extra };
}

describe('examples/webhooks.ts', () => {
  it('answers 202 and handles the event after the answer, once; a retry is answered 200', async () => {
    const handled: string[] = [];
    const client = receiver((event) => void handled.push(event.id));
    const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid' });
    const res = await client.post('/', { body, headers: signed(body), status: 202 });
    expect(await res.json()).toEqual({ received: true });
    expect(handled).toEqual(['evt_1']);
    const again = await client.post('/', { body, headers: signed(body), status: 200 });
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(handled).toEqual(['evt_1']);
  });

  it('forgets an event id after `remember` seconds (3 days: Stripe retries that long), so memory stays bounded', async () => {
    let now = NOW;
    const handled: string[] = [];
    const client = new TestClient(createWebhooks({ secret, handle: (event) => void handled.push(event.id), now: () => now }));
    const first = JSON.stringify({ id: 'evt_old', type: 'x' });
    await client.post('/', { body: first, headers: signed(first, now / 1000), status: 202 });
    now += 3 * 24 * 3600 * 1000 - 1000; // a retry just within three days: still a duplicate
    await client.post('/', { body: first, headers: signed(first, now / 1000), status: 200 });
    now += 2000; // past them: the id was let go when the next event came
    const next = JSON.stringify({ id: 'evt_new', type: 'x' });
    await client.post('/', { body: next, headers: signed(next, now / 1000), status: 202 });
    await client.post('/', { body: first, headers: signed(first, now / 1000), status: 202 });
    expect(handled).toEqual(['evt_old', 'evt_new', 'evt_old']);
    expect(() => createWebhooks({ secret, handle: () => {}, remember: -1 })).toThrow(RangeError);
  });

  it('refuses bad deliveries with a short reason', async () => {
    const client = receiver();
    const body = JSON.stringify({ id: 'evt_2', type: 'x' });
    const reason = async (headers: Record<string, string>, status: number, payload: string | Uint8Array = body) =>
      (await client.post('/', { body: payload, headers, status })).textBody.trim().split('\n').pop();
    expect(await reason({ 'content-type': 'application/json' }, 400)).toBe('No Stripe-Signature header.');
    expect(await reason({ 'content-type': 'application/json', 'stripe-signature': 'v1=abc' }, 400)).toBe('Malformed Stripe-Signature header.');
    expect(await reason(signed(body, NOW / 1000 - 301), 400)).toBe('Signature timestamp outside the tolerance.');
    expect(await reason(signed('{"id":"other","type":"x"}'), 400)).toBe('No valid signature.');
    expect(await reason(signed(body, NOW / 1000, { 'content-type': 'text/plain' }), 415)).toBe('Send application/json.');
    const big = JSON.stringify({ id: 'evt_big', type: 'x', pad: 'x'.repeat(300 * 1024) });
    expect(await reason(signed(big), 413, big)).toBe('maxBodySize exceeded: the request body is larger than 262144 bytes');
    expect(await reason(signed(''), 400, '')).toBe('The body is empty: a JSON value was expected.');
    const gz = gzipSync(body);
    expect(await reason(signed(gz, NOW / 1000, { 'content-encoding': 'gzip' }), 415, gz)).toMatch(/Content-Encoding gzip/);
    expect(await reason(signed('[]'), 400, '[]')).toBe('Send {"id": string, "type": string, …}.');
  });

  it('takes an event up to its own maxBodySize, past the 1 MiB default of req.json()', async () => {
    const client = new TestClient(createWebhooks({ secret, handle: () => {}, maxBodySize: 2 * 1024 * 1024, now: () => NOW }));
    const body = JSON.stringify({ id: 'evt_large', type: 'x', pad: 'x'.repeat(1536 * 1024) });
    const res = await client.post('/', { body, headers: signed(body), status: 202 });
    expect(await res.json()).toEqual({ received: true });
  });

  it('refuses every event without a signing secret (no default one to forge with)', async () => {
    for (const missing of [undefined, '']) {
      const client = new TestClient(createWebhooks({ secret: missing, handle: () => {} }));
      const body = JSON.stringify({ id: 'evt_3', type: 'x' });
      const res = await client.post('/', { body, headers: signed(body), status: 503 });
      expect(res.textBody).toContain('No signing secret is set (WEBHOOK_SECRET)');
    }
  });

  it('accepts any of several v1 signatures (a secret being rolled)', () => {
    expect(parseSignatureHeader('t=12,v1=ab,v0=zz,v1=cd')).toEqual({ timestamp: 12, signatures: ['ab', 'cd'] });
    expect(parseSignatureHeader('t=x,v1=ab')).toBeNull();
  });

  it('logs what the handler throws after the answer (the test client fails the call)', async () => {
    const client = receiver(() => {
      throw new Error('the queue is down');
    });
    const body = JSON.stringify({ id: 'evt_3', type: 'x' });
    await expect(client.post('/', { body, headers: signed(body) })).rejects.toThrow(TestClientError);
    const other = JSON.stringify({ id: 'evt_4', type: 'x' });
    const res = await client.post('/', { body: other, headers: signed(other), allowErrors: true, status: 202 });
    expect(res.errors).toContain('(callOnClose): Error: the queue is down');
  });

  it('over a socket: the 202 does not wait for the handler; close() does', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const app = createWebhooks({ secret, now: () => NOW, handle: async (event) => { await gate; handled.push(event.id); } });
    const server = await serve(app, { port: 0 });
    const body = JSON.stringify({ id: 'evt_5', type: 'x' });
    const res = await fetch(server.url, { method: 'POST', body, headers: signed(body) });
    expect(res.status).toBe(202);
    expect(handled).toEqual([]);
    const closed = server.close({ timeout: 5000 });
    setTimeout(release, 100);
    await closed;
    expect(handled).toEqual(['evt_5']);
  });
});
