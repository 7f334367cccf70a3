/**
 * Request fields that code before `toNodeHandler` changed on `req.headers` (Express or Fastify
 * middleware adding a request id, replacing or deleting a field): the environ is built from
 * `req.rawHeaders`, what the client sent, which such edits do not touch.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';

/**
 * Fields whose edits never reach the environ: they framed the body that `tsgi.input` streams
 * (Node's parser cut it by them), so an edited `Content-Length` or a deleted
 * `Transfer-Encoding` would describe another body than the one the app reads (RFC 9112 §6).
 */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

/** Node's own folding of one field line into a `headers` object (HTTP/1 requests only). */
type AddHeaderLine = (this: IncomingMessage, field: string, value: string, dest: Record<string, unknown>) => void;

/**
 * The raw field list (`rawHeaders`'s shape: names and values alternating) with the edits
 * made to `req.headers` applied, or `undefined` when nothing was edited (or the request is not
 * Node's HTTP/1 `IncomingMessage`). A field left as Node made it keeps its lines as the client
 * sent them (repeated ones included, for the environ's own checks and joining); a changed one
 * is replaced by its value in `req.headers` (one line per element of an array), a deleted one
 * dropped, an added one appended. `Content-Length` and `Transfer-Encoding` stay as sent
 * whatever was done to them, and so does a Host the client sent more than once (Node keeps the
 * first; the environ's check answers the request 400, RFC 9112 §3.2). Node makes `headers`
 * from `rawHeaders` the first time it is read; a request whose `headers` nobody read is
 * unchanged by definition, but telling that apart costs more than this comparison.
 */
export function editedRawHeaders(req: IncomingMessage): string[] | undefined {
  const addLine = (req as unknown as { _addHeaderLine?: AddHeaderLine })._addHeaderLine;
  if (typeof addLine !== 'function') return undefined;
  const raw = req.rawHeaders;
  const sent: Record<string, unknown> = {};
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    addLine.call(req, raw[i]!, raw[i + 1]!, sent);
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  }
  const now = req.headers as Record<string, unknown>;
  const kept = (name: string) => FRAMING.has(name) || (hosts > 1 && name === 'host');
  let changed: Set<string> | undefined;
  for (const name in sent) if (!kept(name) && !sameValue(sent[name], now[name])) (changed ??= new Set()).add(name);
  for (const name in now) if (!(name in sent) && !kept(name) && now[name] !== undefined) (changed ??= new Set()).add(name);
  if (changed === undefined) return undefined;
  const edited: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!changed.has(raw[i]!.toLowerCase())) edited.push(raw[i]!, raw[i + 1]!);
  for (const name of changed) {
    const value = now[name];
    if (value === undefined || value === null) continue;
    for (const one of Array.isArray(value) ? value : [value]) edited.push(name, String(one));
  }
  return edited;
}

/** Node's value of a field (a string, `set-cookie`'s array) against the one found now. */
function sameValue(sent: unknown, now: unknown): boolean {
  if (Array.isArray(sent)) return Array.isArray(now) && now.length === sent.length && sent.every((v, i) => v === now[i]);
  return sent === now;
}
