/**
 * The server side of the `lint` middleware: what a valid environ looks like, and the
 * `LintError` every rule throws.
 *
 * @module
 */
import { type Environ, type LogStream } from '../gateway/types.ts';
import { describe, isAsyncIterable } from '../gateway/body.ts';
import { isToken } from '../gateway/fields.ts';
import { BufferedInput } from '../gateway/input.ts';

/**
 * A breach of the gateway interface found by `lint()`. The message starts with `lint:` and
 * names the rule, then the offending value in parentheses.
 */
export class LintError extends Error {
  /** Always `'LintError'`, so a log or `error.name === 'LintError'` tells it from the app's own errors. */
  override name = 'LintError';
  /** The rule broken, e.g. `status must be '<3 digits> <reason>'`. */
  readonly rule: string;

  constructor(rule: string, detail?: string) {
    super(`lint: ${rule}${detail === undefined ? '' : ` (${detail})`}`);
    this.rule = rule;
  }
}

/** Throws a {@link LintError}. */
export function fail(rule: string, detail?: string): never {
  throw new LintError(rule, detail);
}

/** Reports a finding that breaks no rule but what RFC 9110 discourages; see {@link emitLintWarning}. */
export type LintWarn = (rule: string, detail?: string) => void;

/**
 * Emits a process warning of type `'LintWarning'` (`process.emitWarning`, Node's `warnings.warn`,
 * as Werkzeug's lint warns with an `HTTPWarning`), `lint: <rule> (<detail>)`: printed to
 * standard error, seen by `process.on('warning')`, and failing nothing. Where there is no
 * `process.emitWarning` (a Cloudflare Worker without `nodejs_compat`), `console.warn` prints it.
 */
export function emitLintWarning(rule: string, detail?: string): void {
  const message = new LintError(rule, detail).message;
  const emit = (globalThis as { process?: { emitWarning?: (message: string, options: { type: string }) => void } }).process?.emitWarning;
  if (typeof emit === 'function') emit.call(process, message, { type: 'LintWarning' });
  else console.warn(`LintWarning: ${message}`);
}

const REQUIRED = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL'] as const;
const OPTIONAL = ['CONTENT_TYPE', 'CONTENT_LENGTH', 'REMOTE_ADDR', 'REMOTE_PORT', 'REMOTE_USER', 'REQUEST_URI', 'AUTH_TYPE'] as const;
const FLAGS = ['tsgi.multithread', 'tsgi.multiprocess', 'tsgi.run_once'] as const;

/**
 * Checks an environ against docs/spec.md (the server's side of the interface).
 *
 * @throws LintError naming the first rule broken.
 */
export function checkEnviron(environ: Environ): void {
  if (environ === null || typeof environ !== 'object' || Array.isArray(environ)) {
    fail('the environ must be a plain object', `got ${describe(environ)}`);
  }
  for (const key of REQUIRED) {
    if (typeof environ[key] !== 'string') fail(`environ.${key} must be a string`, `got ${describe(environ[key])}`);
  }
  for (const key of OPTIONAL) {
    const value = environ[key];
    if (value !== undefined && typeof value !== 'string') fail(`environ.${key} must be a string when present`, `got ${describe(value)}`);
  }
  if (!isToken(environ.REQUEST_METHOD)) fail('REQUEST_METHOD must be a token (RFC 9110 §9.1)', JSON.stringify(environ.REQUEST_METHOD));
  const script = environ.SCRIPT_NAME;
  if (script !== '' && (!script.startsWith('/') || script.endsWith('/'))) {
    fail("SCRIPT_NAME must be '' or start with '/' and not end with '/'", JSON.stringify(script));
  }
  const path = environ.PATH_INFO;
  const asterisk = path === '*' && environ.REQUEST_METHOD === 'OPTIONS';
  if (path !== '' && !path.startsWith('/') && !asterisk) fail("PATH_INFO must be '' or start with '/' ('*' for OPTIONS *)", JSON.stringify(path));
  // RFC 9112 §3.2.4: the asterisk-form names the server as a whole; no mount point applies to it.
  if (asterisk && script !== '') fail("SCRIPT_NAME must be '' for OPTIONS * (PATH_INFO '*')", JSON.stringify(script));
  if (!/^\d{1,5}$/.test(environ.SERVER_PORT)) fail('SERVER_PORT must be a decimal port number', JSON.stringify(environ.SERVER_PORT));
  if (!/^HTTP\/\d(?:\.\d)?$/.test(environ.SERVER_PROTOCOL)) fail("SERVER_PROTOCOL must be 'HTTP/<major>.<minor>'", JSON.stringify(environ.SERVER_PROTOCOL));
  const length = environ.CONTENT_LENGTH;
  if (length !== undefined && length !== '' && !/^\d+$/.test(length)) fail('CONTENT_LENGTH must be decimal digits', JSON.stringify(length));
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (key in environ) fail(`${key} must not be set: the header lives in ${key.slice(5)}`);
  }
  for (const key of Object.keys(environ)) {
    if (key.startsWith('HTTP_') && typeof environ[key] !== 'string') fail('HTTP_* values must be strings', `${key} is ${describe(environ[key])}`);
  }
  const version = environ['tsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || !version.every((n) => Number.isInteger(n))) {
    fail('tsgi.version must be [major, minor]', `got ${describe(version)}`);
  }
  const scheme = environ['tsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') fail("tsgi.url_scheme must be 'http' or 'https'", JSON.stringify(scheme));
  if (!isAsyncIterable(environ['tsgi.input'])) fail('tsgi.input must be an async iterable of Uint8Array', `got ${describe(environ['tsgi.input'])}`);
  const errors = environ['tsgi.errors'] as { write?: unknown } | undefined;
  if (!errors || typeof errors.write !== 'function') fail('tsgi.errors must have a write(message) method');
  for (const key of FLAGS) {
    if (typeof environ[key] !== 'boolean') fail(`${key} must be a boolean`, `got ${describe(environ[key])}`);
  }
  for (const key of ['tsgi.signal', 'tsgi.shutdown_signal'] as const) {
    const signal = environ[key];
    if (signal !== undefined && !(signal instanceof AbortSignal)) fail(`${key} must be an AbortSignal when present`, `got ${describe(signal)}`);
  }
  const waitUntil = environ['tsgi.wait_until'];
  if (waitUntil !== undefined && typeof waitUntil !== 'function') fail('tsgi.wait_until must be a function when present (spec §2.7)', `got ${describe(waitUntil)}`);
}

/** Replaces a live `tsgi.input` with one that checks its chunks, and `tsgi.errors` likewise. */
export function wrapInput(environ: Environ): void {
  const input = environ['tsgi.input'];
  if (!(input instanceof BufferedInput) && !(input as { lintChecked?: boolean }).lintChecked) {
    // The bytes of the first read that reached the end: a later read that gives fewer read a
    // live input again, which a reader that took it whole must have replaced (spec §3).
    let whole: number | null = null;
    environ['tsgi.input'] = {
      lintChecked: true,
      async *[Symbol.asyncIterator]() {
        let read = 0;
        for await (const chunk of input as AsyncIterable<unknown>) {
          if (!(chunk instanceof Uint8Array)) fail('tsgi.input chunks must be Uint8Array', `got ${describe(chunk)}`);
          read += chunk.byteLength;
          yield chunk;
        }
        if (whole !== null && read < whole) {
          fail(
            'tsgi.input was read to its end, then read again: a reader that reads the body whole must put back a replayable copy (spec §3; req.bytes(), text() and json() do)',
            `the second read gave ${read} of its ${whole} bytes`,
          );
        }
        whole ??= read;
      },
    } as AsyncIterable<Uint8Array>;
  }
  const errors = environ['tsgi.errors'];
  if (!(errors as { lintChecked?: boolean }).lintChecked) {
    environ['tsgi.errors'] = {
      lintChecked: true,
      write(message: string) {
        if (typeof message !== 'string') fail('tsgi.errors.write() takes a string', `got ${describe(message)}`);
        errors.write(message);
      },
    } as LogStream;
  }
}
