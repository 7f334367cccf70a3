/**
 * `req.parts()`: a form body as a stream of parts, each file part with a body to read as it
 * arrives (busboy's `file` stream, Werkzeug's `stream_factory`), so an upload goes straight to
 * its destination without a temporary file and without being held in memory.
 *
 * @module
 */
import type busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { Environ } from '../gateway/types.ts';
import { MultiDict } from '../datastructures/multidict.ts';
import { BufferedInput, FailedInput, claimInput, consumeInput, consumedBody, openInput, spoilInput } from '../gateway/input.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { readableChunks } from '../gateway/readable-input.ts';
import { type FormLimitOverrides, type FormLimits, bodyTooLarge } from './limits.ts';
import { FailureLatch, ParserFeed, endParser, malformed, openParser, writeParser } from './multipart.ts';
import { loadBusboy } from './busboy-loader.ts';
import { MultipartGuard } from './multipart-guard.ts';
import { FormCharset } from './form-charset.ts';
import { FORM_ENVIRON_KEY, FORM_READER, type FormPlan, planForm } from './parse.ts';
import { declaredLength } from '../http/declared-length.ts';
import { readFailure } from './input.ts';
import { safeFilename } from './upload.ts';
import { parseUrlencoded } from './urlencoded.ts';

/**
 * Options of `req.parts()`: the {@link FormLimits} of `req.form()`, with the same names,
 * defaults (`DEFAULT_FORM_LIMITS`) and 413 answers; `Infinity` switches one off. There is no
 * `spoolThreshold` nor `tmpDir`: nothing is stored.
 */
export type PartsOptions = FormLimitOverrides;

/** A text field of the form, whole (at most `maxFieldSize` bytes). */
export interface FieldPart {
  /** `'field'`: tells a text field from a {@link FilePart} (`if (part.kind === 'field')`). */
  readonly kind: 'field';
  /** The field's name (`''` for `name=""`; a part with no `name` is refused, 400); as `FileUpload.fieldName`. */
  readonly fieldName: string;
  /**
   * Its value, decoded in the part's own `charset` parameter if it names one, else in the
   * encoding a `_charset_` field before it named (HTML's form submission), else as UTF-8
   * (docs/forms.md, "Forms from pages in another charset").
   */
  readonly value: string;
}

/**
 * A file of a `multipart/form-data` body, yielded as soon as its headers are read: its
 * content is still on the wire, and comes as {@link FilePart.body} is read.
 */
export interface FilePart {
  /** `'file'`: tells a file from a {@link FieldPart}. */
  readonly kind: 'file';
  /** The form field's name (`''` for `name=""`; a part with no `name` is refused, 400); as `FileUpload.fieldName`. */
  readonly fieldName: string;
  /** The filename exactly as the client sent it (`''` when none): never use it as a path. */
  readonly filename: string;
  /** `safeFilename(filename)`: its last segment made safe to join to a folder, `''` when nothing is left. */
  readonly safeFilename: string;
  /** The part's media type, `text/plain` when it had none (as busboy reads it): the client's claim. */
  readonly contentType: string;
  /**
   * The content as it arrives, unbuffered: a web `ReadableStream` (also an async iterable of
   * `Uint8Array` chunks: `for await`, `Readable.fromWeb`, an S3 client's `Body`). Nothing more
   * is read from the client than its reader asks for, so a slow destination slows the upload.
   * It can be read once, and only until the loop asks for the next part: the rest of a body
   * left unread is then discarded (still counted against `maxFileSize`), and reading it throws.
   * `body.cancel()` discards the rest at once. A read fails with the 413 of a limit the part
   * or the body passes, a 400 for a malformed body or one the client broke off (`The request
   * body could not be read completely.`, its `cause` the socket's error).
   */
  readonly body: ReadableStream<Uint8Array>;
}

/** One part of a form body, in body order: a text field or a file. */
export type FormPart = FieldPart | FilePart;

/** What `partsFromEnviron` says the reader is, in the error later readers of the body get. */
const READER = 'req.parts()';

/**
 * The parts of the request's form body, for `req.parts()`: see `RequestBody.parts`. Refusals
 * that need no reading (the plan's 413, 400, 415) are thrown here, at the call; the body is
 * claimed only at the loop's first `next()` (see {@link claimedParts}).
 *
 * @throws as `RequestBody.parts`.
 */
export function partsFromEnviron(environ: Environ, options: PartsOptions = {}): AsyncIterableIterator<FormPart> {
  const contentLength = declaredLength(environ);
  const plan = planForm(environ.CONTENT_TYPE, environ.HTTP_CONTENT_ENCODING, { ...options, spoolThreshold: undefined, tmpDir: undefined, contentLength });
  if (plan.type === null || environ['tsgi.input'] === undefined) return noParts();
  return claimedParts(environ, plan);
}

/**
 * The parts, the body claimed when the loop asks for its first part (an async generator's body
 * runs at its first `next()`), as Werkzeug's `request.stream` is taken only when read: a
 * `req.parts()` called but never iterated leaves the body to another reader (`await
 * req.form()`), and that loop, started after it, is refused with the form parse's
 * consumed-body error. A loop that has started owns the body: the readers after it get
 * `the request body was read by req.parts() and not kept`.
 */
async function* claimedParts(environ: Environ, plan: FormPlan): AsyncGenerator<FormPart, void, undefined> {
  const input: AsyncIterable<Uint8Array> | undefined = environ['tsgi.input'];
  if (input === undefined) return;
  if (input instanceof FailedInput) throw input.error;
  if (environ[FORM_ENVIRON_KEY] instanceof Promise && !(input instanceof BufferedInput)) {
    throw consumedBody(FORM_READER);
  }
  // The body is the loop's (and gone from the environ) from here on. The claim is never given
  // back, nor needs to be: the input is marked consumed, which every later claim of it meets
  // first (`claimInput`), so a reader of another environ holding it gets the consumed-body
  // error, during the loop or after it, never "being read by".
  claimInput(input, READER);
  consumeInput(environ, input, READER);
  if (plan.type === 'application/x-www-form-urlencoded') {
    yield* urlencodedParts(input, plan.limits, plan.charset);
    return;
  }
  // A read of the body that fails (a limit, a malformed body, a client gone) is left for later
  // readers, and for the rule that answers an app error wrapping it (`bodyFailureBehind`), in
  // place of the consumed body's error; a body kept by `bytes()` stays readable.
  const consumed: AsyncIterable<Uint8Array> = environ['tsgi.input'];
  const spoil = (failure: unknown): void => {
    if (consumed !== input && isHTTPException(failure)) spoilInput(environ, consumed, failure);
  };
  yield* multipartParts(input, plan.boundary!, plan.limits, spoil);
}

async function* noParts(): AsyncGenerator<FormPart, void, undefined> {
  // an empty form: the body, if any, is not read (as req.form() answers for other types)
}

/** A urlencoded body's pairs as field parts, read whole first (each within `maxFieldSize`). */
async function* urlencodedParts(input: AsyncIterable<Uint8Array>, limits: FormLimits, charset: string | undefined): AsyncGenerator<FormPart, void, undefined> {
  const fields = new MultiDict<string>();
  await parseUrlencoded(input, limits, fields, undefined, charset);
  for (const [name, value] of fields) yield { kind: 'field', fieldName: name, value };
}

/** The error a file part's body read throws once the loop went on to the next part. */
function skippedBody(part: FilePart): Error {
  return new Error(
    `the body of file part ${JSON.stringify(part.filename || part.fieldName)} was skipped: read each part's body before asking req.parts() for the next part`,
  );
}

/** A file part being handed over: its public face, and the way to discard the rest of it. */
interface OpenFile {
  kind: 'open-file';
  part: FilePart;
  /** Stops reading busboy's stream for the reader and lets the rest of it flow away. Idempotent. */
  skip(): void;
}

/**
 * Parses a `multipart/form-data` body part by part. A pump writes the input to busboy one
 * chunk at a time, and only while every part parsed so far has been handed over; busboy holds
 * back its write while a file's stream is full (the reader has not asked for more), so the pump
 * stops reading the socket and the client is slowed down (TCP backpressure). Every limit is
 * checked by {@link MultipartGuard} before busboy sees the bytes. `spoil` is told of the first
 * failure at once (see {@link FailureLatch}).
 */
async function* multipartParts(
  input: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: FormLimits,
  spoil: (failure: unknown) => void,
): AsyncGenerator<FormPart, void, undefined> {
  // busboy loads with the first multipart body (busboy-loader.ts), before any of it is read.
  const { createParser, parts } = await loadBusboy();
  const guard = new MultipartGuard(boundary, limits, parts);
  const feed = new ParserFeed(guard);
  let bb: busboy.Busboy | undefined;
  /** Parts parsed but not yet handed over, in body order. */
  const queue: Array<FieldPart | OpenFile> = [];
  let finished = false;
  /** Wakes whoever waits for a change: the pump (the queue emptied) or the loop (a part, the end, a failure). */
  let waiters: Array<() => void> = [];
  const changed = (): Promise<void> => new Promise((resolve) => void waiters.push(resolve));
  const notify = (): void => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const latch = new FailureLatch(() => {
    spoil(latch.failure); // at once: before a part's reader (and what wraps its error) hears of it
    bb?.destroy();
    notify();
  });
  const fail = (error: unknown): void => latch.fail(error);

  const fileOf = (name: string, stream: Readable, info: busboy.FileInfo): OpenFile => {
    const chunks = readableChunks(stream);
    let state: 'open' | 'done' | 'skipped' = 'open';
    const skip = (): void => {
      if (state !== 'open') return;
      state = 'skipped';
      void chunks.return?.();
      stream.resume(); // discarded as it comes, so busboy goes on to the next part
    };
    /** Read anew after an `await` (the loop may have skipped the part meanwhile). */
    const isSkipped = (): boolean => state === 'skipped';
    const filename = info.filename ?? '';
    const part: FilePart = {
      kind: 'file',
      fieldName: name,
      filename,
      safeFilename: safeFilename(filename),
      contentType: info.mimeType,
      body: new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (latch.failed) throw latch.failure;
            if (state === 'skipped') throw skippedBody(part);
            let step: IteratorResult<Uint8Array>;
            try {
              step = await chunks.next();
            } catch (error) {
              throw latch.failed ? latch.failure : malformed(error);
            }
            if (latch.failed) throw latch.failure;
            if (isSkipped()) throw skippedBody(part);
            if (step.done) {
              state = 'done';
              controller.close();
            } else controller.enqueue(step.value);
          },
          cancel: skip,
        },
        { highWaterMark: 0 },
      ),
    };
    return { kind: 'open-file', part, skip };
  };

  const charset = new FormCharset();
  const open = (): busboy.Busboy =>
    openParser(createParser, boundary, limits, guard, charset, fail, {
      field: (name, value, raw) => {
        if (raw && !charset.noted(name, value, fail)) return;
        // Streamed: a `_charset_` field decides the fields after it (browsers send it where the
        // form has its hidden input, first in most), those before are read as UTF-8.
        queue.push({ kind: 'field', fieldName: name, value: raw ? charset.decode(value) : value });
        notify();
      },
      file: (name, stream, info) => {
        queue.push(fileOf(name, stream, info));
        notify();
      },
    });

  const pump = async (): Promise<void> => {
    const { chunks, detach } = openInput(input);
    let received = 0;
    try {
      for (;;) {
        // Read on only once the loop has taken every part parsed so far: fields never pile up.
        while (queue.length > 0) await latch.guard(changed());
        let step: IteratorResult<Uint8Array>;
        try {
          step = await latch.guard(chunks.next());
        } catch (error) {
          throw latch.failed ? latch.failure : readFailure(input, error);
        }
        if (step.done) break;
        const chunk = step.value;
        if (chunk.byteLength === 0) continue;
        received += chunk.byteLength;
        if (received > limits.maxBodySize) throw bodyTooLarge(limits.maxBodySize);
        guard.push(chunk);
        const bytes = feed.take(chunk);
        if (bytes === undefined) continue;
        await latch.guard(writeParser((bb ??= open()), bytes));
      }
      const rest = feed.rest();
      if (rest !== undefined) await latch.guard(writeParser((bb ??= open()), rest));
      if (bb !== undefined) await latch.guard(endParser(bb)); // after the last file's stream ended
      if (latch.failed) throw latch.failure;
      finished = true;
      notify();
    } catch (error) {
      fail(error);
      detach();
    }
  };

  let current: OpenFile | undefined;
  const pumping = pump();
  try {
    for (;;) {
      current?.skip();
      current = undefined;
      while (queue.length === 0 && !finished && !latch.failed) await changed();
      if (latch.failed) throw latch.failure;
      const next = queue.shift();
      if (next === undefined) return; // the closing boundary, every part handed over
      notify(); // the pump may read on
      if (next.kind === 'field') {
        yield next;
      } else {
        current = next;
        yield next.part;
      }
    }
  } finally {
    // A loop left early (`break`, a throw in its body): the rest of the body is not read.
    if (!finished) fail(new Error('req.parts() was stopped before the end of the body'));
    current?.skip();
    await pumping;
  }
}
