/**
 * Headless Chromium for the browser suite: Debian's `/usr/bin/chromium` (or
 * `$CHROMIUM_PATH`) driven by playwright-core, with the flags that keep it from stalling on a
 * closed network.
 */
import { type Browser, chromium } from 'playwright-core';

/** The Chromium binary the suite drives. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches Chromium headless with the suite's flags and `extraArgs` (host rules, certificate errors). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...extraArgs],
  });
}
