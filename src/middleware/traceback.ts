/**
 * The debug traceback page of `errors(app, { debug: true })`: the error, its stack with the
 * source lines around each frame, the request line, headers and environ. Never for
 * production: it shows source code and every request header.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Environ } from '../gateway/types.ts';
import { describe } from '../gateway/body.ts';
import { printable, requestLine } from '../gateway/log.ts';
import { causeChain } from '../gateway/cause-chain.ts';
import { EnvironHeaders } from '../datastructures/environ-headers.ts';
import { escapeHtml, negotiateBodyType } from '../response/error-body.ts';
import { Response } from '../response/response.ts';

let warnedOfProduction = false;

/**
 * Emits, once per process, a process warning (type `TsgiWarning`, code
 * `TSGI_DEBUG_IN_PRODUCTION`: printed on standard error, seen by `process.on('warning')`) when
 * the debug page is turned on while `NODE_ENV` is `production`, where it would show source
 * code, request headers and the environ to any client whose request fails. Called by
 * `errors(app, { debug: true })` as it is built, so the warning comes at the start, not at the
 * first failure. Nothing where there is no `process` (a Worker without `nodejs_compat`), nor
 * where `NODE_ENV` may not be read (Deno without `--allow-env` throws `NotCapable`: building
 * the middleware must not need a permission).
 */
export function warnIfProduction(): void {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; emitWarning?: (message: string, options: { type: string; code: string }) => void } }).process;
  if (warnedOfProduction || nodeEnv(proc?.env) !== 'production' || typeof proc?.emitWarning !== 'function') return;
  warnedOfProduction = true;
  proc.emitWarning(
    "errors(app, { debug: true }) under NODE_ENV=production: its traceback page shows source code, request headers and the environ to every client whose request fails; set debug from NODE_ENV === 'development'",
    { type: 'TsgiWarning', code: 'TSGI_DEBUG_IN_PRODUCTION' },
  );
}

/** `env.NODE_ENV`, or `undefined` when it cannot be read (Deno without `--allow-env`). */
function nodeEnv(env: Record<string, string | undefined> | undefined): string | undefined {
  try {
    return env?.NODE_ENV;
  } catch {
    return undefined;
  }
}

/** One frame of a V8 stack trace. */
export interface StackFrame {
  /**
   * The function as V8 names it (`async handler`, `new Foo`), or `null` for an anonymous
   * function or a module's top level (V8 writes both alike; the page shows `(anonymous)`, as
   * browsers' devtools do).
   */
  fn: string | null;
  /** The location as written in the stack (`file:///app/x.ts`, `node:internal/…`). */
  location: string;
  /** The file on disk, when the location is a `file://` URL or an absolute path. */
  file: string | null;
  /** 1-based line and column, or 0 when unknown. */
  line: number;
  column: number;
}

/** A source line shown around a frame. */
interface SourceLine {
  number: number;
  text: string;
  current: boolean;
}

/** Lines shown before and after the line of each frame. */
const CONTEXT = 3;
/** Files larger than this (bytes) are not read. */
const MAX_FILE = 2 * 1024 * 1024;
/** The files whose lines are shown: scripts, what the frames of a real stack name. */
const SCRIPT_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/i;
const MAX_FRAMES = 50;
const MAX_CAUSES = 5;
const MAX_VALUE = 2000;

/**
 * Parses the frames of a V8 `error.stack` (`    at fn (file:///x.ts:1:2)`); lines that are
 * not frames are skipped.
 */
export function parseStack(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const raw of stack.split('\n')) {
    const match = /^\s+at (?:(.+?) \((.+)\)|(.+))$/.exec(raw);
    if (!match) continue;
    let fn = match[1] ?? null;
    let where = match[2] ?? match[3]!;
    if (fn === null && where.startsWith('async ')) {
      fn = 'async';
      where = where.slice(6);
    }
    const position = /^(.*?):(\d+):(\d+)$/.exec(where);
    const location = position ? position[1]! : where;
    let file: string | null = null;
    if (location.startsWith('file://')) {
      try {
        file = fileURLToPath(location);
      } catch {
        file = null;
      }
    } else if (location.startsWith('/') || /^[A-Za-z]:[\\/]/.test(location)) {
      file = location;
    }
    frames.push({ fn, location, file, line: position ? Number(position[2]) : 0, column: position ? Number(position[3]) : 0 });
    if (frames.length >= MAX_FRAMES) break;
  }
  return frames;
}

async function readLines(file: string, cache: Map<string, Promise<string[] | null>>): Promise<string[] | null> {
  let pending = cache.get(file);
  if (!pending) {
    pending = (async () => {
      try {
        // A regular file only: a device (`/dev/zero`) or a FIFO would never end.
        const info = await stat(file);
        if (!info.isFile() || info.size > MAX_FILE) return null;
        return (await readFile(file, 'utf8')).split(/\r?\n/);
      } catch {
        return null;
      }
    })();
    cache.set(file, pending);
  }
  return pending;
}

async function sourceAround(frame: StackFrame, cache: Map<string, Promise<string[] | null>>): Promise<SourceLine[]> {
  if (frame.file === null || frame.line < 1 || !SCRIPT_FILE.test(frame.file)) return [];
  const lines = await readLines(frame.file, cache);
  if (!lines || frame.line > lines.length) return [];
  const from = Math.max(1, frame.line - CONTEXT);
  const to = Math.min(lines.length, frame.line + CONTEXT);
  const out: SourceLine[] = [];
  for (let n = from; n <= to; n++) out.push({ number: n, text: clip(lines[n - 1]!, 500), current: n === frame.line });
  return out;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function headline(error: unknown): { name: string; message: string; stack: string } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: typeof error.stack === 'string' ? error.stack : '' };
  }
  // `String` throws for a null-prototype object: the page still comes, as the log line does.
  return { name: describe(error), message: clip(printable(error), MAX_VALUE), stack: '' };
}

/**
 * The frames of `stack`, the error's own `name: message` lines left out when the stack starts
 * with them (as V8 writes it): a message can carry request data shaped like a frame
 * (`\n    at /etc/passwd:1:1`), whose "file" must not be read and shown.
 */
function framesOf(stack: string, name: string, message: string): StackFrame[] {
  const head = message === '' ? name : name === '' ? message : `${name}: ${message}`;
  return parseStack(head !== '' && stack.startsWith(`${head}\n`) ? stack.slice(head.length + 1) : stack);
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (const link of causeChain(error, MAX_CAUSES)) {
    chain.push(link);
    // Only an Error's cause is followed: a thrown plain object is shown as a value.
    if (!(link instanceof Error)) break;
  }
  return chain;
}

function showValue(value: unknown): string {
  if (typeof value === 'string') return clip(value, MAX_VALUE);
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) {
    try {
      return clip(JSON.stringify(value), MAX_VALUE);
    } catch {
      return '[Array]';
    }
  }
  return `[${describe(value)}]`;
}

const STYLE = `
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;background:#f5f5f7}
header{background:#8e1b1b;color:#fff;padding:20px 28px}
header h1{margin:0;font-size:22px}
header .message{margin:6px 0 0;font:16px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
header .request{margin:10px 0 0;opacity:.85;font-family:ui-monospace,Menlo,Consolas,monospace}
main{padding:8px 28px 28px}
h2{font-size:17px;margin:24px 0 8px}
h2 small{font-weight:normal;color:#6e6e73}
ol.frames{list-style:none;margin:0;padding:0}
.frame{background:#fff;border:1px solid #d2d2d7;border-radius:6px;margin:0 0 8px}
.frame summary{cursor:pointer;padding:6px 10px;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.frame .fn{font-weight:600}
.frame .loc{color:#6e6e73}
.frame.lib summary{color:#6e6e73}
pre.source{margin:0;padding:6px 0;border-top:1px solid #e5e5ea;overflow-x:auto;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}
pre.source span{display:block;padding:0 10px;white-space:pre}
pre.source .current{background:#ffe8e8;font-weight:600}
pre.source .n{display:inline-block;min-width:4ch;color:#86868b;text-align:right;margin-right:12px;padding:0}
pre.raw{background:#fff;border:1px solid #d2d2d7;border-radius:6px;padding:10px;overflow-x:auto;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d2d2d7;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:4px 10px;border-bottom:1px solid #e5e5ea}
th{width:28%;font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600;word-break:break-all}
td{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
footer{padding:0 28px 24px;color:#6e6e73;font-size:13px}
`;

async function renderError(error: unknown, cache: Map<string, Promise<string[] | null>>, index: number): Promise<string> {
  const { name, message, stack } = headline(error);
  const frames = framesOf(stack, String(name), String(message));
  const title = index === 0 ? '' : `<h2>Caused by <code>${escapeHtml(name)}</code>: ${escapeHtml(message)}</h2>\n`;
  if (frames.length === 0) {
    return `${title}<pre class="raw">${escapeHtml(stack || `${name}: ${message}`)}</pre>\n`;
  }
  const items = await Promise.all(
    frames.map(async (frame) => {
      const lines = await sourceAround(frame, cache);
      const lib = frame.file === null || frame.location.includes('/node_modules/');
      const place = `${frame.file ?? frame.location}${frame.line ? `:${frame.line}:${frame.column}` : ''}`;
      const source = lines.length
        ? `<pre class="source">${lines
            .map((l) => `<span${l.current ? ' class="current"' : ''}><span class="n">${l.number}</span>${escapeHtml(l.text)}</span>`)
            .join('')}</pre>`
        : '';
      return (
        `<li class="frame${lib ? ' lib' : ''}"><details${lib || !source ? '' : ' open'}>` +
        `<summary><span class="fn">${escapeHtml(frame.fn ?? '(anonymous)')}</span> <span class="loc">${escapeHtml(place)}</span></summary>` +
        `${source}</details></li>`
      );
    }),
  );
  const heading = index === 0 ? '<h2>Traceback <small>(most recent call first)</small></h2>\n' : '';
  return `${title}${heading}<ol class="frames">\n${items.join('\n')}\n</ol>\n`;
}

function table(rows: Array<[string, string]>): string {
  if (rows.length === 0) return '<p>(none)</p>';
  return `<table>\n${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</table>`;
}

/**
 * Renders the debug page for `error` raised while serving `environ`: a self-contained HTML
 * document (inline CSS, no script, no external resource) where every string taken from the
 * error, the source files or the request is HTML-escaped. Source lines are read only from
 * regular script files (`.js`, `.mjs`, `.cjs`, `.ts`, `.mts`, `.cts`, `.jsx`, `.tsx`) named
 * by the stack's frames, not by the `name: message` lines that start it.
 */
export async function renderTraceback(error: unknown, environ: Environ): Promise<string> {
  const cache = new Map<string, Promise<string[] | null>>();
  const { name, message } = headline(error);
  const sections = await Promise.all(causes(error).map((e, i) => renderError(e, cache, i)));
  const headers = table([...new EnvironHeaders(environ).entries()]);
  const environRows = Object.keys(environ)
    .sort()
    .map((key): [string, string] => [key, showValue(environ[key])]);
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(`${name}: ${clip(message, 120)}`)} · tsgi debug</title>\n<style>${STYLE}</style>\n</head>\n<body>\n` +
    `<header>\n<h1>${escapeHtml(name)}</h1>\n<p class="message">${escapeHtml(message)}</p>\n` +
    `<p class="request">${escapeHtml(requestLine(environ))}</p>\n</header>\n<main>\n` +
    `${sections.join('')}` +
    `<h2>Request headers</h2>\n${headers}\n<h2>Environ</h2>\n${table(environRows)}\n</main>\n` +
    `<footer>Shown because <code>errors(app, { debug: true })</code> is on. Never enable it in production.</footer>\n` +
    `</body>\n</html>\n`
  );
}

/**
 * The 500 response of debug mode, negotiated on `Accept` like every error body: the HTML
 * page of {@link renderTraceback}, the stack as plain text (the default, for curl), or JSON
 * `{ code, title, error: { name, message, stack } }`. Sent with `Vary: Accept` (RFC 9110
 * §12.5.5), `Cache-Control: no-store` and a Content-Security-Policy that forbids scripts and
 * external resources.
 */
export async function debugResponse(error: unknown, environ: Environ): Promise<Response> {
  const headers = {
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Accept',
  };
  // As every error body: a malformed or absent Accept counts as absent, plain text.
  const type = negotiateBodyType(environ);
  if (type === 'text/html') {
    return new Response(await renderTraceback(error, environ), { status: 500, headers, contentType: 'text/html' });
  }
  const chain = causes(error).map(headline);
  if (type === 'application/json') {
    const body = { code: 500, title: 'Internal Server Error', request: requestLine(environ), error: chain[0], causes: chain.slice(1) };
    return new Response(JSON.stringify(body), { status: 500, headers, contentType: 'application/json' });
  }
  const text = chain.map((e, i) => `${i ? 'Caused by: ' : ''}${e.stack || `${e.name}: ${e.message}`}`).join('\n\n');
  return new Response(`500 Internal Server Error\n\n${requestLine(environ)}\n\n${text}\n`, { status: 500, headers });
}
