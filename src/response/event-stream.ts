/**
 * Server-sent events: the `text/event-stream` body of `Response.eventStream` (HTML Living
 * Standard §9.2), framed from event objects, with comment heartbeats while the source is idle.
 *
 * @module
 */
import { isAsyncIterable, isIterable, isThenable } from '../gateway/body.ts';
import { type OptionNames, checkOptions, closest, isPlainObject, kindOf } from '../gateway/option-names.ts';

/**
 * One server-sent event (HTML Living Standard §9.2.6, "Interpreting an event stream"): a plain
 * object (an object literal, or of no prototype) of these fields. Every field is optional; a
 * plain string given in its place is `{ data: string }`. Any other key (`type`, which is
 * `event` here; `message`, which is `data`) or any other kind of event (a number, an array, a
 * `Uint8Array`, a class's instance) fails the stream with a `TypeError` when it comes, rather
 * than go out as another event.
 */
export interface ServerSentEvent {
  /**
   * The event's data, any text: each of its lines (split at CR LF, CR or LF) becomes a `data:`
   * line, and the browser joins them back with LF. Without it (and with `event` or `id`),
   * `data:` is sent empty, so the event is dispatched. Not JSON-encoded for you: send
   * `JSON.stringify(value)` (an object, array or `null` here fails the stream with a
   * `TypeError`; a number, bigint or boolean is sent as `String()` gives it, as are those of
   * `event`, `id` and `comment`).
   */
  data?: string | undefined;
  /** The event type (`event:`): `EventSource`'s `addEventListener(type)`; `message` when absent. */
  event?: string | undefined;
  /** The event id (`id:`), which the browser sends back as `Last-Event-ID` when it reconnects; `''` resets it. */
  id?: string | undefined;
  /** How long the browser waits before reconnecting (`retry:`), in milliseconds: a non-negative integer. */
  retry?: number | undefined;
  /** A comment (`: …` lines), which browsers ignore: padding, or a note for someone reading the stream. */
  comment?: string | undefined;
}

/** Options of `Response.eventStream`. */
export interface EventStreamOptions {
  /**
   * Seconds without an event after which a comment line (`: ping`) is sent, so proxies and load
   * balancers that close idle connections (nginx's `proxy_read_timeout` is 60 s) keep the stream
   * open and a gone client is noticed. `0` sends none. Default 15 (as sse-starlette). At most
   * 2147483.647 (`setTimeout`'s limit, about 24.8 days); `Response.eventStream` throws a
   * `TypeError` for more, a negative number or `NaN`.
   */
  heartbeat?: number | undefined;
}

/**
 * The source of an event stream: events (or strings of data) as they happen. A plain iterable
 * may yield promises of them, awaited in turn, as `for await` awaits them.
 */
export type EventFeed = AsyncIterable<ServerSentEvent | string> | Iterable<ServerSentEvent | string | PromiseLike<ServerSentEvent | string>>;

const encoder = new TextEncoder();
/** The first chunk, sent at once: a comment, so the head goes out before the first event. */
const OPENING = encoder.encode(':\n\n');
const PING = encoder.encode(': ping\n\n');
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const LINE_BREAK = /\r\n|\r|\n/;
/** The longest heartbeat, in seconds: `setTimeout`'s limit of 2147483647 ms (about 24.8 days). */
const MAX_HEARTBEAT = 2_147_483.647;

/**
 * The `text/event-stream` form of one event: its fields, one per line, then a blank line.
 *
 * @param nth - where the event is in its stream, from 1, for the messages (`the 2nd event`).
 * @throws TypeError for an event that is neither a string nor a plain object (a number, an
 *   array, a `Uint8Array`, a `Map`, a class's instance) or that has a key no field is named
 *   (see {@link checkEvent}); an `event` or `id` holding CR or LF (it would start another
 *   field), an `id` holding NUL (browsers ignore it), a `retry` that is not a non-negative
 *   integer, a `data`, `event`, `id` or `comment` that is not text (a number, bigint or boolean
 *   is sent as `String()` gives it; an object would be sent as `[object Object]`).
 */
export function formatEvent(event: ServerSentEvent | string, nth: number): string {
  if (typeof event === 'string') return dataLines(event) + '\n';
  checkEvent(event, nth);
  const { data, event: type, id, retry, comment } = event;
  let text = '';
  if (comment !== undefined) for (const line of fieldText('comment', comment).split(LINE_BREAK)) text += line === '' ? ':\n' : `: ${line}\n`;
  if (retry !== undefined) {
    if (!Number.isSafeInteger(retry) || retry < 0) throw new TypeError(`event stream: retry must be a non-negative integer of milliseconds, not ${String(retry)}`);
    text += `retry: ${retry}\n`;
  }
  if (type !== undefined) text += `event: ${singleLine('event', type)}\n`;
  if (id !== undefined) {
    if (fieldText('id', id).includes('\0')) throw new TypeError('event stream: an id must not contain NUL');
    text += `id: ${singleLine('id', id)}\n`;
  }
  if (data !== undefined) text += dataLines(fieldText('data', data));
  else if (type !== undefined || id !== undefined) text += 'data:\n';
  return text + '\n';
}

/** Every field of {@link ServerSentEvent}; `tsc` fails when it and the type differ. */
const FIELDS = { data: true, event: true, id: true, retry: true, comment: true } as const satisfies OptionNames<ServerSentEvent>;
/** The fields, as the messages list them. */
const FIELD_LIST = Object.keys(FIELDS).join(', ');

/**
 * The field meant by another name for it: `MessageEvent`'s (what the page's listener reads:
 * `type`, `lastEventId`) and the default event type's (`message`).
 */
const OTHER_NAMES: Readonly<Record<string, keyof ServerSentEvent>> = { type: 'event', lastEventId: 'id', message: 'data' };

/**
 * Checks that `event` is an event object: a plain object (prototype `null` or an
 * `Object.prototype`) whose own enumerable keys are all fields of {@link ServerSentEvent}. A
 * field holding `undefined` passes. Else the event would be sent wrong without a word:
 * `{ type: 'price', data }` as a `message` event, `{ message }` or bytes as a blank line.
 * Walks the keys with `for…in`, allocating nothing; the message is built only to throw.
 *
 * @throws TypeError naming the event (`the 2nd event`) and, for an unknown key, the field it
 *   likely meant (`type` → `event`, `message` → `data`, a misspelling), as `checkOptions` does
 *   for options.
 */
function checkEvent(event: unknown, nth: number): asserts event is ServerSentEvent {
  if (!isPlainObject(event)) {
    const binary = ArrayBuffer.isView(event) || event instanceof ArrayBuffer ? ' (data is text: decode it)' : '';
    throw new TypeError(`event stream: the ${ordinal(nth)} event must be a string or an object { ${FIELD_LIST} }, not ${kindOf(event)}${binary}`);
  }
  for (const key in event) {
    if (Object.hasOwn(FIELDS, key) || !Object.hasOwn(event, key)) continue;
    const meant = Object.hasOwn(OTHER_NAMES, key) ? OTHER_NAMES[key]! : closest(key, Object.keys(FIELDS));
    const hint = meant === null ? '' : `: did you mean ${JSON.stringify(meant)}?`;
    throw new TypeError(`event stream: the ${ordinal(nth)} event has no field ${JSON.stringify(key)}${hint} (fields: ${FIELD_LIST})`);
  }
}

const ORDINAL_SUFFIXES: Readonly<Record<string, string>> = { one: 'st', two: 'nd', few: 'rd', other: 'th' };

/** `n` as an English ordinal: `1st`, `2nd`, `11th`, `23rd` (`Intl.PluralRules`' ordinal categories). */
function ordinal(n: number): string {
  return `${n}${ORDINAL_SUFFIXES[new Intl.PluralRules('en', { type: 'ordinal' }).select(n)] ?? 'th'}`;
}

/** `data:` lines for `text`, one per line of it. */
function dataLines(text: string): string {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += line === '' ? 'data:\n' : `data: ${line}\n`;
  return out;
}

/**
 * A field's value as text: a string as it is, a number, bigint or boolean as `String()` gives it.
 *
 * @throws TypeError for anything else (an object, an array, a symbol, `null`), which would be
 *   sent as `[object Object]` or the like: data is text, `JSON.stringify` it.
 */
function fieldText(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  throw new TypeError(`event stream: ${field} must be a string, not ${kind}${field === 'data' ? ' (JSON.stringify it)' : ''}`);
}

/** A field value that must be one line. */
function singleLine(field: string, value: unknown): string {
  const text = fieldText(field, value);
  if (/[\r\n]/.test(text)) throw new TypeError(`event stream: ${field} must not contain CR or LF: ${JSON.stringify(text)}`);
  return text;
}

/** Every option of {@link EventStreamOptions}; `tsc` fails when it and the type differ. */
const EVENT_STREAM_OPTIONS = { heartbeat: true } as const satisfies OptionNames<EventStreamOptions>;

/**
 * Checks `Response.eventStream`'s arguments.
 * @returns the heartbeat in milliseconds (0: none).
 * @throws TypeError for a source that is not iterable or is a string (iterable, but one event
 *   per character), or a heartbeat that is not a number of
 *   seconds from 0 to 2147483.647 (`setTimeout`'s limit, about 24.8 days, past which Node would
 *   fire the timer after 1 ms and ping without pause); options that are not a plain object
 *   or hold an unknown key (`heartbeats`).
 */
export function eventStreamHeartbeat(source: unknown, options: EventStreamOptions | undefined): number {
  checkOptions('Response.eventStream', options, EVENT_STREAM_OPTIONS);
  if (typeof source === 'string') {
    throw new TypeError('Response.eventStream: the source must be an iterable or async iterable of events, not a string (one event per character): give [text] for one event');
  }
  if (!isAsyncIterable(source) && !isIterable(source)) throw new TypeError('Response.eventStream: the source must be an iterable or async iterable of events');
  const heartbeat = options?.heartbeat ?? 15;
  if (typeof heartbeat !== 'number' || !(heartbeat >= 0 && heartbeat <= MAX_HEARTBEAT)) {
    throw new TypeError(`Response.eventStream: heartbeat must be a number of seconds ≥ 0 and at most ${MAX_HEARTBEAT}, not ${String(heartbeat)}`);
  }
  return heartbeat * 1000;
}

/** A plain iterable's step, its value awaited when it is a promise (see `eventStreamBody`). */
function settledStep(step: IteratorResult<ServerSentEvent | string>): Promise<IteratorResult<ServerSentEvent | string>> {
  if (step.done || !isThenable<ServerSentEvent | string>(step.value)) return Promise.resolve(step);
  return Promise.resolve(step.value).then((value) => ({ done: false, value }));
}

/**
 * The body of an event stream: an opening comment at once, then each event of `source` as it
 * comes, with `: ping` after `heartbeatMs` without one. Closing it (`return()`: the client went
 * away, the request ended) closes `source` at once, even while it waits for its next event, and
 * stops the heartbeat. A `next()` made before the last one settled is answered after it, in
 * order, as an async generator's is.
 */
export function eventStreamBody(source: EventFeed, heartbeatMs: number): AsyncIterableIterator<Uint8Array> {
  const async = isAsyncIterable(source);
  const iterator: Iterator<ServerSentEvent | string> | AsyncIterator<ServerSentEvent | string> = async
    ? (source as AsyncIterable<ServerSentEvent | string>)[Symbol.asyncIterator]()
    : (source as Iterable<ServerSentEvent | string>)[Symbol.iterator]();
  let opened = false;
  let closed = false;
  /** Events taken from `source` so far, for the messages of `formatEvent`. */
  let taken = 0;
  /** The source's next event being waited for, and how it settled (`undefined` while it has not). */
  let pending: Promise<IteratorResult<ServerSentEvent | string>> | undefined;
  let outcome: { value: IteratorResult<ServerSentEvent | string> } | { error: unknown } | undefined;
  /** Ends the wait of the step in progress: the source's event came, the heartbeat is due, or the stream closed. */
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Asks the source for its next event, watched by one reaction for as long as it takes: each
   * heartbeat's wait is a promise of its own, never a `Promise.race` with `pending`, which would
   * leave one reaction on it per heartbeat (350 bytes each, for as long as the source is idle:
   * megabytes a day for each quiet stream).
   */
  const ask = (): void => {
    // A promise a plain iterable yields is awaited, as `for await` and `ReadableStream.from` do.
    const asked = async ? Promise.resolve(iterator.next()) : settledStep(iterator.next() as IteratorResult<ServerSentEvent | string>);
    pending = asked;
    outcome = undefined;
    asked.then(
      (value) => {
        if (pending !== asked) return;
        outcome = { value };
        wake?.();
      },
      (error: unknown) => {
        if (pending !== asked) return;
        outcome = { error };
        wake?.();
      },
    );
  };

  const step = async (): Promise<IteratorResult<Uint8Array>> => {
    if (closed) return DONE;
    if (!opened) {
      opened = true;
      return { done: false, value: OPENING };
    }
    if (pending === undefined) ask();
    if (outcome === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (heartbeatMs > 0) timer = setTimeout(resolve, heartbeatMs);
      });
      wake = undefined;
      clearTimeout(timer);
    }
    if (closed) return DONE;
    const settled = outcome;
    if (settled === undefined) return { done: false, value: PING };
    // A failed next() fails this step, and the next one again, as the awaited promise did.
    if ('error' in settled) throw settled.error;
    pending = undefined;
    outcome = undefined;
    const result = settled.value;
    if (result.done) {
      closed = true;
      return DONE;
    }
    return { done: false, value: encoder.encode(formatEvent(result.value, ++taken)) };
  };

  // A next() made before the last settled waits for it, as an async generator's would: racing
  // the same pending event, two would each send it. close() does not wait (see above).
  let queue: Promise<IteratorResult<Uint8Array>> | undefined;
  const next = (): Promise<IteratorResult<Uint8Array>> => (queue = queue === undefined ? step() : queue.then(step, step));

  const close = async (): Promise<IteratorResult<Uint8Array>> => {
    if (closed && pending === undefined) return DONE;
    closed = true;
    clearTimeout(timer);
    // A next() of the source still waiting settles unseen (its reaction sees `pending` changed);
    // its failure is not this stream's.
    pending = undefined;
    outcome = undefined;
    wake?.();
    await iterator.return?.();
    return DONE;
  };

  return {
    next,
    return: close,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
