/**
 * Form parsing limits: their defaults, per-call overrides, and the errors they raise.
 *
 * @module
 */
import { HTTPContentTooLarge } from '../exceptions/client-errors.ts';
import type { OptionNames } from '../gateway/option-names.ts';
import { BUSBOY_HEADER_CAP } from './busboy-header-count.ts';

/**
 * Limits on a form body, every one decided while the body streams: the first byte or part
 * past a limit stops the parse with 413 Content Too Large, whose detail names the limit
 * (`"maxFileSize exceeded: …"`). Nothing is ever silently truncated.
 *
 * Sizes are in **bytes**; counts are whole numbers; `Infinity` switches a limit off.
 * Defaults follow Werkzeug where it has one (`max_form_memory_size` = 500 000 bytes per text
 * field, `max_form_parts` = 1000) and are otherwise chosen so one request cannot exhaust a
 * server: see {@link DEFAULT_FORM_LIMITS}.
 */
export interface FormLimits {
  /** Whole request body, as received. Default 100 MiB (104 857 600). */
  maxBodySize: number;
  /**
   * One text field's value (multipart: the raw bytes of the part; urlencoded: the
   * percent-encoded bytes of the value, and separately of the name). Default 500 000, as
   * Werkzeug's `max_form_memory_size`.
   */
  maxFieldSize: number;
  /** One uploaded file's content. Default 100 MiB (104 857 600). */
  maxFileSize: number;
  /** Parts of a multipart body (fields + files), or pairs of a urlencoded one. Default 1000, as Werkzeug's `max_form_parts`. */
  maxParts: number;
  /** Text fields. Default 1000. */
  maxFields: number;
  /** Uploaded files. Default 100. */
  maxFiles: number;
  /**
   * The header block of one multipart part, CRLFs included. Default 8192; at most 16 384
   * (busboy's own cap, `BUSBOY_HEADER_CAP`): a larger value, `Infinity` too, is a TypeError.
   * busboy counts the first byte of each line and of each value twice, so a block of fewer
   * bytes than 16 384 can pass its cap: that block is refused with the same 413.
   */
  maxPartHeaderSize: number;
}

/** The default {@link FormLimits}. Frozen; spread it to derive your own. */
export const DEFAULT_FORM_LIMITS: Readonly<FormLimits> = Object.freeze({
  maxBodySize: 100 * 1024 * 1024,
  maxFieldSize: 500_000,
  maxFileSize: 100 * 1024 * 1024,
  maxParts: 1000,
  maxFields: 1000,
  maxFiles: 100,
  maxPartHeaderSize: 8192,
});

/** The name of one limit, as used in error details. */
export type FormLimitName = keyof FormLimits;

/** Any {@link FormLimits} to override, each optional; one given as `undefined` keeps its default. */
export type FormLimitOverrides = { [K in FormLimitName]?: FormLimits[K] | undefined };

/**
 * Every limit's name, for the option lists of the calls taking {@link FormLimitOverrides}
 * (`checkOptions`: `parseForm`, `req.form`, `req.parts`…); `tsc` fails when it and the type differ.
 */
export const FORM_LIMIT_OPTIONS = {
  maxBodySize: true,
  maxFieldSize: true,
  maxFileSize: true,
  maxParts: true,
  maxFields: true,
  maxFiles: true,
  maxPartHeaderSize: true,
} as const satisfies OptionNames<FormLimitOverrides>;

/**
 * Merges per-call overrides over the defaults. An `undefined` override keeps the default.
 *
 * @throws TypeError when a limit is not a non-negative number (NaN, negative, a string), or
 *   when `maxPartHeaderSize` is over busboy's cap of 16 384 bytes (`Infinity` included).
 */
export function resolveLimits(overrides: FormLimitOverrides = {}): FormLimits {
  const limits: FormLimits = { ...DEFAULT_FORM_LIMITS };
  for (const key of Object.keys(DEFAULT_FORM_LIMITS) as FormLimitName[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new TypeError(`${key} must be a non-negative number of bytes or items, got ${String(value)}`);
    }
    if (key === 'maxPartHeaderSize' && value > BUSBOY_HEADER_CAP) {
      throw new TypeError(`maxPartHeaderSize must be at most ${BUSBOY_HEADER_CAP} bytes (the multipart parser's own cap), got ${value}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** The 413 for `limit`, with a detail such as `"maxFiles exceeded: the form has more than 3 files"`. */
export function limitExceeded(limit: FormLimitName, what: string): InstanceType<typeof HTTPContentTooLarge> {
  return new HTTPContentTooLarge(`${limit} exceeded: ${what}`);
}

/**
 * The 413 for a request body past `maxBodySize` bytes, declared or counted while it streams,
 * naming the option as every limit's does: `maxBodySize exceeded: the request body is larger
 * than 1024 bytes`. The form parse's, the body readers' (`req.bytes({ maxBodySize })`…) and
 * the server's (`serve(app, { maxBodySize })`, marked as its own: `serverTooLarge`).
 */
export function bodyTooLarge(maxBodySize: number): InstanceType<typeof HTTPContentTooLarge> {
  return limitExceeded('maxBodySize', `the request body is larger than ${maxBodySize} bytes`);
}

/** Quotes a client-supplied name for an error detail, shortened and without control characters. */
export function quoteName(name: string | undefined): string {
  if (name === undefined) return '(unnamed)';
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `'${clean.length > 100 ? `${clean.slice(0, 100)}…` : clean}'`;
}
