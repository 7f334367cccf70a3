/**
 * The test client's `tsgi.early_hints`: records each `103 Early Hints` the app sends, by the
 * rules the Node server sends them by.
 *
 * @module
 */
import type { EarlyHints } from '../gateway/types.ts';
import { checkEarlyHints } from '../gateway/early-hints.ts';

/** The `tsgi.early_hints` of one exchange, what it recorded, and how the exchange ends it. */
export interface HintRecorder {
  /** The environ key's function. */
  readonly send: EarlyHints;
  /** One list of fields per 103 sent, in order. */
  readonly sent: Array<Array<[string, string]>>;
  /**
   * Marks the final head as committed (the body's first chunk taken, or the head sent): later
   * hints are refused, as the server refuses them.
   */
  committed(): void;
}

/**
 * A recorder: fields checked as the server checks them (a `TypeError` for a bad one), then
 * kept unless the server would send nothing: no `Link` field, an `SERVER_PROTOCOL` of
 * `HTTP/1.0` (RFC 8297 §3), or the final head committed: the body started (a call from it
 * after its first `yield` answers `false`, as on the server, whatever the timing) or the head out.
 */
export function hintRecorder(): HintRecorder {
  const sent: Array<Array<[string, string]>> = [];
  let out = false;
  const send: EarlyHints = (environ, fields) => {
    if (!checkEarlyHints(fields) || out || environ.SERVER_PROTOCOL === 'HTTP/1.0') return false;
    sent.push(fields.map(([name, value]): [string, string] => [name, value]));
    return true;
  };
  return {
    send,
    sent,
    committed: () => {
      out = true;
    },
  };
}
