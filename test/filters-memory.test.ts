/**
 * rewriteHtml's memory under a link-heavy page: what it makes for each element is garbage at
 * the next scavenge, so V8's young generation stays at its start size instead of growing to
 * its maximum (which a worker's RSS shows: 130 MB more for an 8 MB page). Measured in a
 * process of its own (test/fixtures/rewrite-heap.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('rewriteHtml memory', () => {
  it('lets each element of a page with 60,000 links go at the next scavenge: the young generation does not grow', () => {
    const output = execFileSync(process.execPath, ['--conditions=tsgi-source', 'test/fixtures/rewrite-heap.ts', '200'], { cwd: ROOT, encoding: 'utf8' });
    const { links, newSpace } = JSON.parse(output) as { links: number; newSpace: number };
    expect(links).toBe(60_000);
    expect(newSpace).toBeLessThan(64 * 1024 * 1024);
  });
});
