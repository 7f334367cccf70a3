/**
 * nginx's `499` (the client closed the request before its answer), which the access logs, the
 * upgrades' close reports and `proxy` use, is defined once in the sources and imported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli-helpers.ts';

/** The `.ts` files under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The code of `text` without its comments (well enough for this: line and block comments). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('the 499 status', () => {
  it('is written once in src, the rest import it', () => {
    const uses = sources(join(ROOT, 'src')).flatMap((file) => (/\b499\b/.test(code(readFileSync(file, 'utf8'))) ? [relative(ROOT, file)] : []));
    expect(uses).toEqual(['src/gateway/status.ts']);
  });
});
