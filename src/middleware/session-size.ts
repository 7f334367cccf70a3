/**
 * What makes a session too large for its cookie, for the error that refuses it: the largest
 * values by key, measured as the JSON the cookie carries. Not exported from an entry point.
 *
 * @module
 */
import type { Flash } from './session.ts';

/** How many of the largest parts the error names. */
const NAMED = 3;

/**
 * The largest parts of a session, largest first, for a log line: `"cart" (2504 bytes of JSON),
 * "notes" (1502), "user" (5)`. Each value is measured as its JSON in UTF-8 (the cookie holds
 * that, base64url: 4/3 as many bytes); `newestFlash`, when given (a message too large to keep
 * beside the values), is measured as its `[category, message]` pair. Names the keys and sizes
 * only, never the values (a session may hold what the log must not).
 */
export function largestSessionParts(data: ReadonlyMap<string, unknown>, newestFlash?: Flash): string {
  const parts = [...data].map(([key, value]) => ({ label: JSON.stringify(key), bytes: jsonBytes(value) }));
  if (newestFlash !== undefined) parts.push({ label: 'the newest flash message', bytes: jsonBytes([newestFlash.category, newestFlash.message]) });
  parts.sort((a, b) => b.bytes - a.bytes);
  return parts
    .slice(0, NAMED)
    .map(({ label, bytes }, i) => `${label} (${bytes}${i === 0 ? ' bytes of JSON' : ''})`)
    .join(', ');
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}
