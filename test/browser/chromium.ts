/**
 * Headless Chromium for the browser suite: Debian's `/usr/bin/chromium` (or
 * `$CHROMIUM_PATH`) driven by playwright-core, with the flags that keep it from stalling on a
 * closed network.
 */
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type App, serve, type ServerHandle } from 'tsgi';

/** The Chromium binary the suite drives. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches Chromium headless with the suite's flags and `extraArgs` (host rules, certificate errors). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...extraArgs],
  });
}

/** Chromium and a `serve()`d app on 127.0.0.1, as {@link servedInChromium} keeps them for a test file. */
export interface ChromiumAndServer {
  readonly browser: Browser;
  readonly server: ServerHandle;
}

/**
 * Launches Chromium and serves `app` on 127.0.0.1 (a port of its own, nothing logged) before the
 * file's tests, and closes both after them. The fields are there once `beforeAll` has run.
 */
export function servedInChromium(app: App): ChromiumAndServer {
  const held: { browser?: Browser; server?: ServerHandle } = {};
  beforeAll(async () => {
    held.browser = await launchChromium();
    held.server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
  });
  afterAll(async () => {
    await held.browser?.close();
    await held.server?.close({ timeout: 1000 });
  });
  return {
    get browser() {
      return held.browser!;
    },
    get server() {
      return held.server!;
    },
  };
}

/** A call a page makes with `fetch`: method, path on the API, and a body (a string goes as `text/plain`, anything else as JSON). */
export type PageCall = [method: string, path: string, body?: unknown];

/**
 * What a page's `fetch` got: its status, its JSON body (`null` for a 204) and the response
 * fields `fields` named (under the key given for each), or the error it threw.
 */
export type PageResult = ({ status: number; body: unknown } & Record<string, unknown>) | { error: string };

/**
 * Opens `site` in `context` and makes `calls` to `base` from the page, in order, with
 * credentials (`fetch(…, { credentials: 'include' })`, `Accept: application/json`). `fields`
 * maps a key of each result to the response field it reads (`{ etag: 'etag' }`).
 */
export async function callsFrom(context: BrowserContext, site: string, base: string, calls: PageCall[], fields: Record<string, string> = {}): Promise<PageResult[]> {
  const tab = await context.newPage();
  try {
    await tab.goto(`${site}/`);
    return await tab.evaluate(
      async ({ base, calls, fields }) => {
        const out: Array<Record<string, unknown>> = [];
        for (const [method, url, body] of calls) {
          try {
            const res = await fetch(`${base}${url}`, {
              method,
              credentials: 'include',
              headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' },
              body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
            });
            const result: Record<string, unknown> = { status: res.status };
            for (const [key, name] of Object.entries(fields)) result[key] = res.headers.get(name);
            result.body = res.status === 204 ? null : await res.json();
            out.push(result);
          } catch (error) {
            out.push({ error: String(error) });
          }
        }
        return out;
      },
      { base, calls, fields },
    ) as PageResult[];
  } finally {
    await tab.close();
  }
}
