/**
 * A webhook receiver, Stripe-style, written against the public entry points only
 * (docs/response.md, "Work after the answer"):
 *
 * - the signature is checked over the exact bytes received (`await req.bytes()`, with a body
 *   limit: 413 past it), HMAC-SHA256 of `<t>.<body>` compared in constant time with each `v1`
 *   of `Stripe-Signature: t=…,v1=…`; then `await req.json({ maxBodySize })` parses the same
 *   bytes, kept by `bytes()` (given the same limit: `json()` holds them to its own, 1 MiB by
 *   default);
 * - a timestamp outside the tolerance (5 minutes) is refused, so a captured delivery cannot be
 *   replayed later; a delivery already seen (by event id) is answered 200 and not processed
 *   again, since senders retry until they get a 2xx;
 * - 415 for a body that is not JSON, 400 with a short reason for a missing or bad signature
 *   (not 401, which needs a `WWW-Authenticate` challenge: RFC 9110 §15.5.2);
 * - the event is answered `202` at once and handled after the answer is sent
 *   (`res.callOnClose`): what the handler throws is logged to `tsgi.errors`, and `tsgi serve`
 *   waits for it on SIGTERM, within `--timeout-graceful-shutdown`.
 *
 * ```sh
 * WEBHOOK_SECRET=whsec_… node --conditions=tsgi-source src/cli/main.ts serve examples/webhooks.ts:app
 * ```
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HTTPBadRequest, HTTPServiceUnavailable, HTTPUnsupportedMediaType, Request, Response } from 'tsgi';

/** An event as the sender posts it: an id, a type, and whatever else. */
export interface WebhookEvent {
  id: string;
  type: string;
  [field: string]: unknown;
}

/** Options of {@link createWebhooks}. */
export interface WebhookOptions {
  /** The signing secret shared with the sender; without one, every event is refused (503). */
  secret: string | undefined;
  /** The work done for each new event, after the answer; may return a promise. */
  handle: (event: WebhookEvent) => unknown;
  /** Seconds a signature's timestamp may be away from now. Default 300. */
  tolerance?: number | undefined;
  /**
   * Seconds an event id is remembered, so a retry of it is answered as a duplicate. Default
   * 259 200 (three days: Stripe retries a failed delivery that long). Ids older than that are let
   * go as new events come, so memory is bounded by the events of that span. A `RangeError` for
   * a negative or non-finite number.
   */
  remember?: number | undefined;
  /** The largest body accepted, bytes. Default 256 KiB. */
  maxBodySize?: number | undefined;
  /** The clock, in milliseconds. Default `Date.now`; tests pass their own. */
  now?: (() => number) | undefined;
}

/** The signature of `payload` at `timestamp` (seconds), hex: what a sender puts in `v1=`. */
export function sign(secret: string, timestamp: number, payload: Uint8Array | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
}

/** `t=…,v1=…,v1=…` as the timestamp and the `v1` signatures; `null` when it has no `t` or no `v1`. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp = NaN;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-f]+$/i.test(value)) signatures.push(value);
  }
  return Number.isSafeInteger(timestamp) && signatures.length > 0 ? { timestamp, signatures } : null;
}

const isEvent = (value: unknown): value is WebhookEvent =>
  typeof value === 'object' && value !== null && typeof (value as WebhookEvent).id === 'string' && typeof (value as WebhookEvent).type === 'string';

/**
 * The receiver: an app answering `POST` with `202` for a new event, `200` for one already
 * received, and a 4xx with a short reason otherwise. Event ids are remembered in memory for
 * `remember` seconds (one process); several workers or restarts need a shared store (a unique
 * key in the database, with the time to let it go).
 *
 * @throws RangeError for a `remember` that is negative or not finite.
 */
export function createWebhooks(options: WebhookOptions) {
  const { secret, handle, tolerance = 300, maxBodySize = 256 * 1024, remember = 3 * 24 * 3600, now = Date.now } = options;
  if (!(remember >= 0 && Number.isFinite(remember))) throw new RangeError(`webhooks: remember must be a non-negative number of seconds, not ${remember}`);
  /** When each event id was first received (ms), oldest first: a `Map` keeps insertion order. */
  const received = new Map<string, number>();
  return Request.application(async (req) => {
    if (req.method !== 'POST') return new Response('Post events here.\n', { status: 405, headers: { Allow: 'POST' } });
    // No default secret: a receiver deployed without one would take forged events.
    if (secret === undefined || secret === '') throw new HTTPServiceUnavailable('No signing secret is set (WEBHOOK_SECRET): no event is accepted.');
    if (req.contentType !== 'application/json') throw new HTTPUnsupportedMediaType('Send application/json.');
    const header = req.headers.get('Stripe-Signature');
    if (header === null) throw new HTTPBadRequest('No Stripe-Signature header.');
    const parsed = parseSignatureHeader(header);
    if (parsed === null) throw new HTTPBadRequest('Malformed Stripe-Signature header.');
    if (Math.abs(now() / 1000 - parsed.timestamp) > tolerance) throw new HTTPBadRequest('Signature timestamp outside the tolerance.');
    const raw = await req.bytes({ maxBodySize });
    const expected = Buffer.from(sign(secret, parsed.timestamp, raw), 'hex');
    const valid = parsed.signatures.some((given) => {
      const bytes = Buffer.from(given, 'hex');
      return bytes.length === expected.length && timingSafeEqual(bytes, expected);
    });
    if (!valid) throw new HTTPBadRequest('No valid signature.');
    const event = await req.json({ maxBodySize }); // the bytes checked above, under the same limit (json()'s default is 1 MiB)
    if (!isEvent(event)) throw new HTTPBadRequest('Send {"id": string, "type": string, …}.');
    const at = now();
    for (const [id, seen] of received) {
      if (at - seen < remember * 1000) break;
      received.delete(id); // older than `remember`: a retry of it is no longer expected
    }
    if (received.has(event.id)) return Response.json({ received: true, duplicate: true });
    received.set(event.id, at);
    const res = Response.json({ received: true }, { status: 202 });
    res.callOnClose(() => handle(event));
    return res;
  });
}

/** The receiver as `tsgi serve` runs it: the secret from `WEBHOOK_SECRET` (events refused without it); events logged. */
export const app = createWebhooks({
  secret: process.env.WEBHOOK_SECRET,
  handle: (event) => console.log(`webhook ${event.type} ${event.id}`),
});
