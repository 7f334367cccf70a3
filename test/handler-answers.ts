/**
 * What the layer tests share: an app answering every kind of handler result, the requests that
 * reach each kind, and how a client sees an answer (status, fields, body).
 */
import { type App, HTTPNotFound, Request, Response } from 'tsgi';

const enc = new TextEncoder();

/** The same app, hidden behind a plain function: the layer above must use the gateway interface. */
export const opaque = (app: App): App => (environ, startResponse) => app(environ, startResponse);

/** Status, header fields and body a client gets from `app` for `path`. */
export async function served(app: App, path: string, init: Parameters<typeof Request.blank>[1] = {}) {
  const environ = Request.blank(path, init).environ;
  let status = '';
  let headers: Array<[string, string]> = [];
  const body = await app(environ, (s, h) => {
    status = s;
    headers = h.map(([n, v]) => [n, v]);
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return { status, headers, body: Buffer.concat(chunks).toString() };
}

/**
 * A `Request.application` answering, by path, every kind of result a handler gives: a string,
 * a thrown and a returned `HTTPException`, a 204, a stream, a conditional response, a raw app,
 * JSON (any other path), and `cached` (a `Response` it answers every time) at `/cached`.
 */
export function answeringApp(cached?: Response): App {
  return Request.application(async (req) => {
    switch (req.pathInfo) {
      case '/text':
        return 'plain string';
      case '/cached':
        return cached ?? 'nothing cached';
      case '/missing':
        throw new HTTPNotFound('no such thing');
      case '/returned-error':
        return new HTTPNotFound();
      case '/empty':
        return new Response(null, { status: 204 });
      case '/stream':
        return new Response(
          (async function* () {
            yield enc.encode('a');
            yield enc.encode('b');
          })(),
        );
      case '/conditional': {
        const res = new Response('0123456789', { conditionalResponse: true });
        res.etag = 'v1';
        return res;
      }
      case '/app':
        return (_environ: unknown, start: (s: string, h: Array<[string, string]>) => void) => {
          start('201 Created', [['Content-Type', 'text/plain'], ['X-Raw', '1']]);
          return [enc.encode('raw app')];
        };
      default:
        return Response.json({ path: req.pathInfo });
    }
  });
}

/** Requests that reach each kind of answer of {@link answeringApp} (`/cached` left out). */
export const ANSWER_CASES: Array<[string, Parameters<typeof Request.blank>[1]]> = [
  ['/json', {}],
  ['/text', {}],
  ['/missing', { headers: { Accept: 'application/json' } }],
  ['/returned-error', {}],
  ['/empty', {}],
  ['/stream', {}],
  ['/conditional', {}],
  ['/conditional', { headers: { 'If-None-Match': '"v1"' } }],
  ['/conditional', { headers: { Range: 'bytes=2-4' } }],
  ['/app', {}],
  ['/json', { method: 'HEAD' }],
];
