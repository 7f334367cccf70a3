/**
 * `parseForm`: a streamed form body into fields and files, for `Request.form()`.
 *
 * @module
 */
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Environ } from '../gateway/types.ts';
import { MultiDict } from '../datastructures/multidict.ts';
import { HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { parseMediaType } from '../http/media-type.ts';
import { declaredLength } from '../http/declared-length.ts';
import { refuseContentCoding } from './content-coding.ts';
import { formEncoding } from '../http/form-decoding.ts';
import { DEFAULT_FORM_LIMITS, FORM_LIMIT_OPTIONS, type FormLimitOverrides, type FormLimits, bodyTooLarge, resolveLimits } from './limits.ts';
import { checkBoundary, parseMultipart } from './multipart.ts';
import { EMPTY_INPUT, claimInput, consumeInput, releaseInput, spoilInput } from '../gateway/input.ts';
import { noteCopy } from '../gateway/cleanup-owner.ts';
import { parseUrlencoded } from './urlencoded.ts';
import { DEFAULT_SPOOL_THRESHOLD, type FileUpload, SpoolDir } from './upload.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link parseForm}: any {@link FormLimits} to override, and storage settings. */
export interface ParseFormOptions extends FormLimitOverrides {
  /** Files larger than this many bytes are spooled to a temporary file; default 512 000 (500 KiB). */
  spoolThreshold?: number | undefined;
  /** The folder for temporary files; default `os.tmpdir()`. */
  tmpDir?: string | undefined;
  /** The declared `Content-Length` in bytes, if any: a body declared past `maxBodySize` is refused before reading. */
  contentLength?: number | null | undefined;
}

/** Every option of {@link ParseFormOptions}, checked by {@link parseForm} (`checkOptions`); `tsc` fails when it and the type differ. */
const PARSE_FORM_OPTIONS = {
  ...FORM_LIMIT_OPTIONS,
  spoolThreshold: true,
  tmpDir: true,
  contentLength: true,
} as const satisfies OptionNames<ParseFormOptions>;

/**
 * A parsed form: text fields and uploaded files, each in a {@link MultiDict} in body order
 * (`get` answers the first value, as Werkzeug; WebOb answers the last). Spooled files live
 * until {@link ParsedForm.cleanup}; `await using form = await parseForm(…)` cleans up at the
 * end of the block.
 */
export class ParsedForm implements AsyncDisposable {
  /** Text fields. */
  readonly fields: MultiDict<string>;
  /** Uploaded files, by field name. */
  readonly files: MultiDict<FileUpload>;
  readonly #spool: SpoolDir;

  constructor(fields: MultiDict<string>, files: MultiDict<FileUpload>, spool: SpoolDir) {
    this.fields = fields;
    this.files = files;
    this.#spool = spool;
  }

  /** Removes the temporary files of spooled uploads. Idempotent; in-memory uploads stay readable. */
  cleanup(): Promise<void> {
    return this.#spool.cleanup();
  }

  /** The same as {@link ParsedForm.cleanup}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.cleanup();
  }
}

/**
 * Parses a form body as it streams: `application/x-www-form-urlencoded` (see
 * `parseUrlencoded`) or `multipart/form-data` (via busboy, see `parseMultipart`). Any other
 * content type, or none, answers an empty form without reading the input (Werkzeug). A
 * urlencoded body is UTF-8 (WHATWG URL Standard) unless it declares another `charset`
 * (`shift_jis`, `iso-8859-1`…), in which its escapes are decoded (WebOb), or declares none and
 * has a `_charset_` field naming one (HTML's form submission, as a legacy page's browser sends
 * it), in which it is all decoded; a declared charset the WHATWG Encoding Standard does not
 * know, or UTF-16 (where `=` and `&` are no single bytes), is refused before reading.
 *
 * Every limit of {@link FormLimits} is decided while reading: the first chunk past one stops
 * the parse. On failure, temporary files already written are removed, and `input` is left
 * unread rather than closed: the server still has to send the 413/400, and the Node adapter
 * then drains or closes the connection itself (see docs/server.md, "Unread request bodies").
 *
 * @param input - the body, e.g. `environ['tsgi.input']`.
 * @param contentType - the `Content-Type` header, e.g. `environ.CONTENT_TYPE`.
 * @throws HTTPContentTooLarge (413) past a limit, the detail naming it
 *   (`"maxFileSize exceeded: file 'a.bin' is larger than 1048576 bytes"`); HTTPBadRequest (400)
 *   for malformed multipart (missing or invalid boundary, bad part headers, a part without a
 *   `form-data` `Content-Disposition` (none, another type such as `attachment`: RFC 7578 §4.2)
 *   or with one busboy cannot read, a delimiter followed by neither CRLF nor `--`,
 *   truncated body, no closing boundary) or a body that breaks off; HTTPUnsupportedMediaType (415) for a
 *   urlencoded body in a charset it cannot decode, a multipart text part in a charset other than
 *   UTF-8, US-ASCII, ISO-8859-1 or UTF-16LE (naming the field), or a `_charset_` field naming
 *   no charset it decodes (one it decodes is the charset of the text fields without one of
 *   their own, of a urlencoded body declaring none: HTML's form submission, RFC 7578 §4.6); TypeError (rejects) for an
 *   invalid option, options that are not a plain object or an unknown one (`parseForm: unknown
 *   option "maxFileSise": did you mean "maxFileSize"?`).
 */
export async function parseForm(
  input: AsyncIterable<Uint8Array>,
  contentType: string | null | undefined,
  options: ParseFormOptions = {},
): Promise<ParsedForm> {
  checkOptions('parseForm', options, PARSE_FORM_OPTIONS, 'third');
  return readForm(input, planForm(contentType, undefined, options));
}

/** How a body is to be parsed, decided from its `Content-Type` and the options alone. */
export interface FormPlan {
  /** The form's media type; null for any other body (an empty form, the input unread). */
  type: 'application/x-www-form-urlencoded' | 'multipart/form-data' | null;
  /** The `boundary` parameter, checked for a multipart body (`checkBoundary`). */
  boundary: string | undefined;
  /**
   * The WHATWG encoding a urlencoded body declared (`utf-8` for US-ASCII), which it is decoded
   * in; `undefined` when it declared none: UTF-8, or the charset its `_charset_` field names.
   */
  charset: string | undefined;
  limits: FormLimits;
  spoolThreshold: number;
  tmpDir: string | undefined;
}

/**
 * The refusals of {@link parseForm} that need no reading (charset, options, declared length,
 * boundary), and the plan of the parse.
 *
 * @throws as {@link parseForm}, before reading.
 */
export function planForm(contentType: string | null | undefined, contentEncoding: unknown, options: ParseFormOptions): FormPlan {
  const { type, parameters } = parseMediaType(contentType);
  const charset = type === 'application/x-www-form-urlencoded' && parameters.charset !== undefined ? urlencodedCharset(parameters.charset) : undefined;
  const limits = resolveLimits(options);
  const spoolThreshold = options.spoolThreshold ?? DEFAULT_SPOOL_THRESHOLD;
  if (!(spoolThreshold >= 0)) throw new TypeError(`spoolThreshold must be a non-negative number, got ${spoolThreshold}`);
  const plan: FormPlan = { type: null, boundary: parameters.boundary, charset, limits, spoolThreshold, tmpDir: options.tmpDir };
  if (type !== 'multipart/form-data' && type !== 'application/x-www-form-urlencoded') return plan;
  refuseContentCoding(contentEncoding);
  if (options.contentLength != null && options.contentLength > limits.maxBodySize) {
    throw bodyTooLarge(limits.maxBodySize);
  }
  if (type === 'multipart/form-data') checkBoundary(parameters.boundary, contentType);
  return { ...plan, type };
}

/**
 * Reads and parses the body as `plan` says; temporary files are removed when it fails. An
 * abort of `signal` fails it at once with the signal's reason. `onRead` is told how many
 * bytes of the body the parse took (0 for an empty body, or a plan that reads nothing).
 */
async function readForm(input: AsyncIterable<Uint8Array>, plan: FormPlan, signal?: AbortSignal, onRead?: (bytes: number) => void): Promise<ParsedForm> {
  const spool = new SpoolDir(plan.tmpDir);
  const form = new ParsedForm(new MultiDict<string>(), new MultiDict<FileUpload>(), spool);
  if (plan.type === null) return form;
  try {
    const read =
      plan.type === 'application/x-www-form-urlencoded'
        ? await parseUrlencoded(input, plan.limits, form.fields, signal, plan.charset)
        : await parseMultipart(input, plan.boundary!, plan.limits, { fields: form.fields, files: form.files, spool, spoolThreshold: plan.spoolThreshold }, signal);
    onRead?.(read);
  } catch (error) {
    await spool.cleanup();
    throw error;
  }
  return form;
}

/**
 * The WHATWG encoding a urlencoded body declaring `charset` is decoded in: `utf-8` without one
 * or for US-ASCII (`us-ascii`, `ascii`, `ANSI_X3.4-1968`: a subset), else the encoding its label
 * names (see `formEncoding`).
 *
 * @throws HTTPUnsupportedMediaType (415) for a label no decoder knows, or UTF-16 (whose `=` and
 *   `&` are two bytes: a form is never sent in it, browsers submit such a page's form in UTF-8).
 */
function urlencodedCharset(charset: string | undefined): string {
  const encoding = formEncoding(charset);
  if (encoding === null) {
    throw new HTTPUnsupportedMediaType(`Urlencoded forms must be UTF-8 or another charset this server decodes, not ${charset!.toLowerCase().slice(0, 100)}.`);
  }
  return encoding;
}

/** What read the body, in the error of a later reader of a body the form parse did not keep (`consumeInput`). */
export const FORM_READER = 'the form parse (req.form(), files() or params())';

/** The environ key where {@link formFromEnviron} keeps the parse (a promise of {@link ParsedForm}). */
export const FORM_ENVIRON_KEY = 'tsgi.form';

/** The parses of {@link formFromEnviron} still reading their body, with the way to stop each. */
const pendingForms = new WeakMap<Promise<ParsedForm>, AbortController>();

/**
 * Stops a parse of {@link formFromEnviron} that is still reading its body, for a request that
 * has ended without waiting for it (its answer is out: the rest of the body will never be read).
 * The parse fails, removing the files it wrote. Answers false, doing nothing, for a parse that
 * has settled and for any other value.
 */
export function abortPendingForm(form: unknown): boolean {
  const controller = form instanceof Promise ? pendingForms.get(form as Promise<ParsedForm>) : undefined;
  if (controller === undefined) return false;
  controller.abort(new Error('the request ended before its form body was read'));
  return true;
}

/** The options each parse of {@link formFromEnviron} was started with. */
const firstOptions = new WeakMap<Promise<unknown>, ParseFormOptions>();

/** The options a later read may name: the limits, `spoolThreshold` and `tmpDir` (not `contentLength`, which comes from the environ). */
const LATER_OPTIONS = [...(Object.keys(DEFAULT_FORM_LIMITS) as (keyof ParseFormOptions)[]), 'spoolThreshold', 'tmpDir'] as const;

/**
 * The first option of `later` whose value differs from the one the parse used (`first`'s, or
 * the default), as `name used, not given`; null when every option `later` gives is the same.
 * A parse stored under `tsgi.form` by other code (its options unknown) is taken as it is.
 */
function otherOption(first: ParseFormOptions | undefined, later: ParseFormOptions): string | null {
  if (first === undefined) return null;
  for (const name of LATER_OPTIONS) {
    const given = later[name];
    if (given === undefined) continue;
    const used = first[name] ?? defaultOption(name);
    if (given === used || (name === 'tmpDir' && sameFolder(used as string | undefined, given as string))) continue;
    return `${name} ${used === undefined ? 'the default' : String(used)}, not ${String(given)}`;
  }
  return null;
}

/**
 * Whether the folders `used` (`undefined`: `os.tmpdir()`) and `given` are one once resolved
 * (`/tmp/`, `/tmp/.` and `/tmp` are). Asked only for two different strings: `os.tmpdir()` and
 * the working directory need permissions on Deno, and are then taken as different.
 */
function sameFolder(used: string | undefined, given: string): boolean {
  try {
    return resolve(used ?? tmpdir()) === resolve(given);
  } catch {
    return false;
  }
}

/** The default of a form option, `undefined` for `tmpDir` (`os.tmpdir()`, looked up when needed). */
function defaultOption(name: (typeof LATER_OPTIONS)[number]): number | undefined {
  if (name === 'spoolThreshold') return DEFAULT_SPOOL_THRESHOLD;
  if (name === 'tmpDir') return undefined;
  return DEFAULT_FORM_LIMITS[name as keyof typeof DEFAULT_FORM_LIMITS];
}

/**
 * Parses the form of a request once: the first call reads `tsgi.input` with `CONTENT_TYPE` and
 * `CONTENT_LENGTH` and stores the promise under `environ['tsgi.form']`; later calls (the app
 * below a middleware that already read the form) get the same form, or the same error. A later
 * call giving an option the first did not use (another limit, `spoolThreshold` or `tmpDir`)
 * gets a rejected `TypeError` instead: the parse is not run again, so the option cannot apply. The
 * body read is not kept (a urlencoded body's pairs are split as it streams, a multipart one's
 * files spooled): `tsgi.input` becomes a failed input whose `Error` says to call
 * `req.bytes()` first, rather than an empty body (Werkzeug's `b''`); an input already in
 * memory (`req.bytes()` came first) stays and replays, and an empty body (no bytes read)
 * stays readable as empty, as after a `req.stream()` of it. When the parse fails after it began
 * reading, `tsgi.input` becomes a `FailedInput` of the same error, so any later read of the
 * body fails at once with it (a refusal before reading leaves the input whole). A live body
 * is claimed while the parse reads it (`claimInput`): `req.bytes()` or `req.parts()` started
 * meanwhile is refused, rather than each reader taking some of its chunks. Call
 * `cleanup()` on the form when the request ends.
 *
 * @throws as {@link parseForm}; an `Error` (rejects) when another reader is reading the live
 *   body now (`claimInput`: `req.bytes()` not awaited yet).
 */
export function formFromEnviron(environ: Environ, options: ParseFormOptions = {}): Promise<ParsedForm> {
  const existing = environ[FORM_ENVIRON_KEY];
  if (existing instanceof Promise) {
    const other = otherOption(firstOptions.get(existing), options);
    if (other === null) return existing as Promise<ParsedForm>;
    return Promise.reject(
      new TypeError(
        `the form of this request was already read with other options (${other}): options apply to the first ` +
          'req.form(), files(), params() or parseForm() of a request; give them all there',
      ),
    );
  }
  const contentLength = declaredLength(environ);
  // An environ without `tsgi.input` has an empty body, as the other readers read it.
  const input: AsyncIterable<Uint8Array> = environ['tsgi.input'] ?? EMPTY_INPUT;
  const controller = new AbortController();
  let parsed: Promise<ParsedForm>;
  let claimed = false;
  try {
    const plan = planForm(environ.CONTENT_TYPE, environ.HTTP_CONTENT_ENCODING, { contentLength, ...options });
    if (plan.type !== null) {
      claimInput(input, FORM_READER);
      claimed = true;
    }
    // A body of no bytes stays readable (as empty) after the parse: nothing was taken from it.
    let read = 0;
    parsed = readForm(input, plan, controller.signal, (bytes) => (read = bytes)).then(
      (form) => {
        if (read > 0) consumeInput(environ, input, FORM_READER);
        return form;
      },
      (error: unknown) => {
        spoilInput(environ, input, error);
        throw error;
      },
    );
  } catch (error) {
    parsed = Promise.reject(error); // refused before reading: the input is left as it was
  }
  environ[FORM_ENVIRON_KEY] = parsed;
  noteCopy(environ);
  firstOptions.set(parsed, options);
  pendingForms.set(parsed, controller);
  const settled = () => {
    pendingForms.delete(parsed);
    if (claimed) releaseInput(input);
  };
  parsed.then(settled, settled);
  return parsed;
}
