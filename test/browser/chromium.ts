/**
 * Headless Chromium for the browser suite: Debian's `/usr/bin/chromium` (or
 * `$CHROMIUM_PATH`) driven by playwright-core, with the flags that keep it from stalling on a
 * closed network.
 */
import { type Browser, chromium } from 'playwright-core';
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
