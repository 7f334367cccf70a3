/**
 * The app side of the `lint` middleware: what `startResponse` may be given and what the body
 * may yield (docs/spec.md §4–6).
 *
 * @module
 */
import { type Body } from '../gateway/types.ts';
import { type BodyIterator, closeBody, describe, isAsyncIterable, isIterable, openBody } from '../gateway/body.ts';
import { CONNECTION_FIELDS, isRequiredUpgrade, isToken } from '../gateway/fields.ts';
import { hasNoContent } from '../gateway/status.ts';
import { HeaderList } from '../http/header-list.ts';
import { sharedCacheKeeps } from '../http/shared-cache.ts';
import { parseMediaType } from '../http/media-type.ts';
import { isEntityTag } from '../http/etag.ts';
import { isRelayed } from '../gateway/relayed.ts';
import { type LintWarn, fail } from './lint-environ.ts';

/** RFC 9110 §5.5 field-value characters, as docs/spec.md §5 restricts them. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** docs/spec.md §5: three digits (first 1-9), a space, a reason free of controls but HTAB. */
const STATUS = /^[1-9]\d\d [^\x00-\x08\x0a-\x1f\x7f]*$/;

/** What lint knows of one response. */
export interface ResponseState {
  /** The status code given to startResponse; 0 before. */
  status: number;
  /** Content-Length as given, or null. */
  length: number | null;
  started: boolean;
  /** A chunk was produced. */
  chunked: boolean;
  /**
   * The headers array the app gave `startResponse` and the copy lint passed on, until the
   * head's moment (the first chunk, or the end) checks that the app left it as it was.
   */
  given?: { headers: Array<[string, string]>; copy: Array<[string, string]> } | null | undefined;
}

/**
 * Records the headers an app gave `startResponse` and answers the copy to pass on: the head
 * the server sends is then the one lint checked, whatever the app does to its array later.
 */
export function keepHeaders(headers: Array<[string, string]>, state: ResponseState): Array<[string, string]> {
  const copy = headers.map(([name, value]): [string, string] => [name, value]);
  state.given = { headers, copy };
  return copy;
}

/** docs/spec.md §5: the app must not change the headers array after passing it. */
function checkHeadersKept(state: ResponseState): void {
  const given = state.given;
  if (!given) return;
  state.given = null;
  const { headers, copy } = given;
  const field = (pair: unknown) => (Array.isArray(pair) ? `${String(pair[0])}: ${String(pair[1])}` : describe(pair));
  const count = Math.max(headers.length, copy.length);
  for (let i = 0; i < count; i++) {
    const now: unknown = headers[i];
    const was = copy[i];
    let change: string | undefined;
    if (was === undefined) change = `field ${i} added: ${Array.isArray(now) ? String(now[0]) : describe(now)}`;
    else if (i >= headers.length) change = `field ${i} removed: ${was[0]}`;
    else if (!Array.isArray(now) || now.length !== 2 || now[0] !== was[0] || now[1] !== was[1]) change = `field ${i} changed: ${field(was)} → ${field(now)}`;
    if (change !== undefined) fail('the headers array must not change once given to startResponse (spec §5)', change);
  }
}

/**
 * Checks a `startResponse` call and records its status and Content-Length in `state` (the
 * fields a status MUST carry among them: a 206's `Content-Range`, or its `multipart/byteranges`
 * type without one, RFC 9110 §15.3.7; an `ETag` written as an entity tag, §8.8.3); what
 * RFC 9110 only discourages goes to `warn` instead (a 304's or a 204's `Content-Type`), and so
 * does a `Set-Cookie` a shared cache may store and hand to others (RFC 9111 §7.3).
 */
export function checkStart(status: unknown, headers: unknown, state: ResponseState, warn: LintWarn): void {
  if (typeof status !== 'string' || !STATUS.test(status)) {
    fail("status must be '<3 digits> <reason>'", `got ${JSON.stringify(status) ?? describe(status)}`);
  }
  const code = Number(status.slice(0, 3));
  if (code < 200) fail('apps must not send 1xx statuses: informational responses are not part of TSGI 1.0', status);
  if (code > 599) fail('status codes are 100-599 (RFC 9110 §15: 600-999 are invalid, a client takes them for a 5xx)', status);
  if (!Array.isArray(headers)) fail('headers must be an array of [name, value] pairs', `got ${describe(headers)}`);
  let length: number | null = null;
  let types = 0;
  let challenged = false;
  let proxyChallenged = false;
  let allowed = false;
  let upgrades = false;
  let cookies = false;
  let ranged = false;
  let multipart = false;
  const badTags: string[] = [];
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      // The pair itself, so the field at fault is named: ["Content-Length", number].
      const shown = Array.isArray(pair) ? `[${pair.map((item: unknown) => (typeof item === 'string' ? JSON.stringify(item) : describe(item))).join(', ')}]` : describe(pair);
      fail('each header must be a [name, value] pair of strings', `got ${shown}`);
    }
    const [name, value] = pair as [string, string];
    if (!isToken(name)) fail('header names must be tokens (RFC 9110 §5.6.2)', `got ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(value)) fail('header values must not contain CR, LF or NUL (RFC 9110 §5.5)', `${name}: ${JSON.stringify(value)}`);
    if (!FIELD_VALUE.test(value)) {
      fail('header values must be HTAB, SP, visible ASCII or U+0080-U+00FF (encode other text first, RFC 8187)', `${name}: ${JSON.stringify(value)}`);
    }
    const lower = name.toLowerCase();
    if (CONNECTION_FIELDS.has(lower) && !(lower === 'connection' && value.trim().toLowerCase() === 'close') && !isRequiredUpgrade(lower, code)) {
      fail("hop-by-hop headers are the server's business (RFC 9110 §7.6.1); only 'Connection: close' may be asked for, and a 426's Upgrade", `got ${name}`);
    }
    if (lower === 'status') fail('there is no Status header: the status goes to startResponse');
    if (lower === 'content-length') {
      if (length !== null) fail('Content-Length must appear at most once');
      if (!/^\d{1,15}$/.test(value)) fail('Content-Length must be decimal digits', `got ${JSON.stringify(value)}`);
      length = Number(value);
    } else if (lower === 'content-type') {
      types++;
      if (types > 1) fail('Content-Type must appear at most once');
      multipart = parseMediaType(value).type === 'multipart/byteranges';
    } else if (lower === 'content-range' && value.trim() !== '') {
      ranged = true;
    } else if (lower === 'etag' && !isEntityTag(value)) {
      badTags.push(`${name}: ${value}`);
    } else if (lower === 'www-authenticate' && value.trim() !== '') {
      challenged = true;
    } else if (lower === 'proxy-authenticate' && value.trim() !== '') {
      proxyChallenged = true;
    } else if (lower === 'allow') {
      allowed = true;
    } else if (lower === 'upgrade' && value.trim() !== '') {
      upgrades = true;
    } else if (lower === 'set-cookie') {
      cookies = true;
    }
  }
  if (code === 204 && length !== null) fail('no Content-Length in a 204 response (RFC 9110 §8.6)', status);
  // Discouraged, not forbidden: a proxy passes on what its upstream sent (nginx does a 304's).
  if (code === 304 && types > 0) warn('a 304 response should not carry Content-Type (RFC 9110 §15.4.5: it has no content; a cache would take the type for its stored one)', status);
  if (code === 204 && types > 0) warn('a 204 response has no content for Content-Type to describe (nginx drops it)', status);
  if (cookies && sharedCacheKeeps(new HeaderList(headers as Array<[string, string]>), 'set-cookie')) {
    warn('Set-Cookie on a response a shared cache may store (public, s-maxage, or a CDN-Cache-Control or Surrogate-Control lifetime): a CDN may hand the cookie to other visitors (RFC 9111 §7.3); add Cache-Control private, or no-cache="Set-Cookie"', status);
  }
  // The server generating the status MUST send these fields: an upstream's head relayed as it came (`proxy`) is warned of, not refused.
  const required = isRelayed(headers) ? (rule: string, detail: string) => warn(`${rule}; relayed from the upstream as it came`, detail) : fail;
  if (code === 401 && !challenged) required('a 401 response must carry WWW-Authenticate with a challenge (RFC 9110 §15.5.2)', status);
  if (code === 405 && !allowed) required('a 405 response must carry Allow (RFC 9110 §15.5.6; empty when no method is)', status);
  if (code === 407 && !proxyChallenged) required('a 407 response must carry Proxy-Authenticate with a challenge (RFC 9110 §15.5.8)', status);
  if (code === 206 && !ranged && !multipart) required('a 206 response must carry Content-Range, or be multipart/byteranges (RFC 9110 §15.3.7)', status);
  if (code === 206 && ranged && multipart) required('a multipart/byteranges 206 response must not carry Content-Range in its head: each part has its own (RFC 9110 §15.3.7.2)', status);
  // A sender MUST generate the grammar (RFC 9110 §2.2); Werkzeug's lint warns of an unquoted tag.
  for (const field of badTags) required('an ETag must be an entity tag, "x" or W/"x" (RFC 9110 §8.8.3)', field);
  if (code === 426 && !upgrades) required('a 426 response must carry Upgrade with the protocols to switch to (RFC 9110 §15.5.22)', status);
  if (code === 205 && length !== null && length !== 0) fail('a 205 response has no content: Content-Length 0 or none (RFC 9110 §15.3.6)', status);
  state.status = code;
  state.length = length;
}

/** Checks what the app returned is a body. */
export function checkBodyType(body: unknown): asserts body is Body {
  if (typeof body === 'string') fail('the body must be an iterable of Uint8Array, not a string');
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    fail('the body must be an iterable of Uint8Array chunks, not bare bytes (wrap them: [bytes])');
  }
  if (!isAsyncIterable(body) && !isIterable(body)) {
    fail('the body must be an iterable or async iterable of Uint8Array', `got ${describe(body)}`);
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The body with every chunk checked; sync when the app's was, an array (checked at once) when
 * the app's was one and `startResponse` was called. `settle` runs once, when the
 * body is finished, closed or failed. Body bytes answered to a HEAD request (`head`) are no
 * breach: docs/spec.md §7.2 has the app avoid them (SHOULD NOT) and the server drop them, so
 * `warn` is told once, with the rule, as Werkzeug's lint leaves them to the server too.
 */
export function wrapChecked(body: Body, state: ResponseState, head: boolean, settle: () => void, warn: (rule: string) => void): Body {
  const sync = !isAsyncIterable(body);
  // openBody, as the servers do: a Node stream's iterator is a generator that a return()
  // before its first next() would leave open; openBody's destroys the stream.
  const iterator: BodyIterator = openBody(body);
  let sent = 0;
  let finished = false;
  let pending = false;
  let warnedHead = false;
  const onStep = (step: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
    if (finished) return DONE;
    if (step.done) {
      finished = true;
      settle();
      if (!state.started) fail('startResponse must be called before the body ends');
      checkHeadersKept(state);
      if (state.length !== null && !head && state.status !== 304 && sent !== state.length) {
        fail('Content-Length must equal the body bytes sent', `declared ${state.length}, sent ${sent}`);
      }
      return DONE;
    }
    const chunk: unknown = step.value;
    if (!state.started) fail('startResponse must be called before the first body chunk');
    checkHeadersKept(state);
    if (!(chunk instanceof Uint8Array)) fail('body chunks must be Uint8Array', `got ${describe(chunk)}`);
    state.chunked = true;
    sent += chunk.byteLength;
    if (chunk.byteLength > 0 && hasNoContent(state.status)) fail('no body bytes in a 204, 205 or 304 response (RFC 9110 §6.4.1)', `status ${state.status}`);
    if (chunk.byteLength > 0 && head && !warnedHead) {
      warnedHead = true;
      warn('body bytes answered to a HEAD request, which the server drops (docs/spec.md §7.2: the app SHOULD NOT produce them)');
    }
    if (state.length !== null && !head && sent > state.length) {
      fail('Content-Length must equal the body bytes sent', `declared ${state.length}, sent more`);
    }
    return step;
  };
  const onError = (error: unknown): never => {
    finished = true;
    settle();
    throw error;
  };
  /**
   * `onStep`, and on a breach in a chunk the body produced (its iterator still open) the body
   * closed before the LintError is thrown: a consumer does not call `return()` on an iterator
   * whose `next()` threw (`for await` does not), so nobody else would.
   */
  const checked = (step: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> | Promise<never> => {
    try {
      return onStep(step);
    } catch (error) {
      if (finished) throw error;
      finished = true;
      settle();
      const closed = closeBody(iterator);
      if (sync) throw error;
      return closed.then(() => {
        throw error;
      });
    }
  };
  const close = (): IteratorReturnResult<undefined> | Promise<IteratorReturnResult<undefined>> => {
    if (finished) return sync ? DONE : Promise.resolve(DONE);
    finished = true;
    settle();
    const result: unknown = iterator.return?.();
    if (result instanceof Promise) return result.then(() => DONE);
    return sync ? DONE : Promise.resolve(DONE);
  };
  if (sync) {
    const it: IterableIterator<Uint8Array> = {
      next(): IteratorResult<Uint8Array> {
        if (finished) return DONE;
        let step: IteratorResult<Uint8Array>;
        try {
          step = (iterator as Iterator<Uint8Array>).next();
        } catch (error) {
          return onError(error);
        }
        return checked(step) as IteratorResult<Uint8Array>;
      },
      return: close as () => IteratorReturnResult<undefined>,
      [Symbol.iterator]() {
        return this;
      },
    };
    // An array after startResponse is whole: checked now (a breach throws from the app call,
    // a 500, as the server checks an array before the head) and handed on as an array, so the
    // server frames it as the app's own, with Content-Length rather than chunked.
    if (Array.isArray(body) && state.started) return [...it];
    return it;
  }
  const it: AsyncIterableIterator<Uint8Array> = {
    async next(): Promise<IteratorResult<Uint8Array>> {
      if (pending) fail('next() must not be called again before the previous next() settled');
      if (finished) return DONE;
      pending = true;
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (error) {
        return onError(error);
      } finally {
        pending = false;
      }
      return checked(step);
    },
    return: async () => close(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return it;
}
