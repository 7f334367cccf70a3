/**
 * Request body input helpers: a replayable in-memory input, and reading an input whole with
 * a size limit enforced while streaming.
 *
 * @module
 */
import { concatBytes } from '../gateway/body.ts';
import { HTTPBadRequest, HTTPContentTooLarge } from '../exceptions/client-errors.ts';

/**
 * A request body held in memory that can be iterated any number of times. `Request.bytes()`
 * puts one in `environ['tsgi.input']` after reading the body whole, so the next reader (the
 * app below a middleware that peeked) gets the same bytes again.
 */
export class BufferedInput implements AsyncIterable<Uint8Array> {
  /** The whole body. */
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.bytes.byteLength > 0) yield this.bytes;
  }
}

/**
 * Reads an input whole.
 *
 * @param maxBodySize - maximum body size in bytes (default unlimited); checked against
 *   `declaredLength` first, then chunk by chunk while reading, so an oversized body is refused
 *   without being buffered.
 * @throws HTTPContentTooLarge (413) past the limit; HTTPBadRequest (400) when the client goes
 *   away or the stream breaks off mid-body (see {@link isInputError}), the stream error as its
 *   `cause`; an HTTPException the input itself throws, unchanged; any other error (a bug in an
 *   input wrapper, a TypeError) unchanged, so it is logged and answered 500.
 */
export async function readInput(
  input: AsyncIterable<Uint8Array>,
  maxBodySize = Infinity,
  declaredLength: number | null = null,
): Promise<Uint8Array> {
  if (input instanceof BufferedInput) {
    if (input.bytes.byteLength > maxBodySize) throw tooLarge(maxBodySize);
    return input.bytes;
  }
  if (declaredLength !== null && declaredLength > maxBodySize) throw tooLarge(maxBodySize);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of input) {
      total += chunk.byteLength;
      if (total > maxBodySize) throw tooLarge(maxBodySize);
      chunks.push(chunk);
    }
  } catch (error) {
    if (isInputError(error)) {
      throw new HTTPBadRequest('The request body could not be read completely.', { cause: error });
    }
    throw error;
  }
  return concatBytes(chunks, total);
}

/** Error codes of a request stream that broke off: the client's doing, not the app's. */
const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', // Node's 'aborted' request, a reset socket
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE', // the stream closed before its end
  'ABORT_ERR', // an AbortSignal fired
]);

/**
 * True for an error that says the request body stream broke off: Node's `aborted` request
 * (code `ECONNRESET`), a socket error (`ECONNABORTED`, `EPIPE`, `ETIMEDOUT`), a stream closed
 * before its end (`ERR_STREAM_PREMATURE_CLOSE`), an HTTP parse error in the body (`HPE_*`), or
 * an abort (`AbortError`, `TimeoutError`). Programming errors (a TypeError in an input
 * wrapper) and anything else are not.
 */
export function isInputError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (INPUT_ERROR_CODES.has(code) || code.startsWith('HPE_'))) return true;
  return error.name === 'AbortError' || error.name === 'TimeoutError' || error.message === 'aborted';
}

function tooLarge(maxBodySize: number): InstanceType<typeof HTTPContentTooLarge> {
  return new HTTPContentTooLarge(`The request body exceeds the limit of ${maxBodySize} bytes.`);
}
