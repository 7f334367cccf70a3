/**
 * docs/negotiation.md's "Partial pages for htmx" recipe, run as written over a real socket,
 * under `compress`: the fragment to an htmx request, the page otherwise (a history restore
 * included), `Vary` naming both fields, one ETag per representation, 304s per representation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const text = readFileSync(path.join(ROOT, 'docs/negotiation.md'), 'utf8');
const at = text.indexOf('\n## Partial pages for htmx: `HX-Request`\n');
const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-htmx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'htmx.ts'), code);
const { app } = (await import(path.join(dir, 'htmx.ts'))) as { app: App };

const HX = { 'HX-Request': 'true' };

describe("docs/negotiation.md's htmx recipe", () => {
  it('is in the docs', () => expect(at).toBeGreaterThan(-1));

  it('answers the fragment to htmx and the page otherwise, both varying on the fields', async () => {
    const server = await start(app);
    const page = await request(`${server.url}/?q=an`);
    const fragment = await request(`${server.url}/?q=an`, { headers: HX });
    const restore = await request(`${server.url}/?q=an`, { headers: { ...HX, 'HX-History-Restore-Request': 'true' } });
    expect(fragment.body.toString()).toBe('<ul id="results"><li>banana</li></ul>');
    expect(page.body.toString()).toMatch(/^<!doctype html>.*<ul id="results"><li>banana<\/li><\/ul><\/body><\/html>$/);
    expect(restore.body.toString()).toBe(page.body.toString());
    for (const res of [page, fragment, restore]) {
      expect(res.headers.vary).toBe('HX-Request, HX-History-Restore-Request');
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('max-age=60');
    }
    expect(fragment.headers.etag).not.toBe(page.headers.etag);
  });

  it("revalidates each representation with its own ETag, under compress", async () => {
    const server = await start(compress(app, { threshold: 0 }));
    const gzip = { 'Accept-Encoding': 'gzip' };
    const page = await request(`${server.url}/`, { headers: gzip });
    const fragment = await request(`${server.url}/`, { headers: { ...gzip, ...HX } });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers.vary).toBe('HX-Request, HX-History-Restore-Request, Accept-Encoding');
    const again = await request(`${server.url}/`, { headers: { ...gzip, ...HX, 'If-None-Match': fragment.headers.etag as string } });
    expect(again.status).toBe(304);
    expect(again.headers.vary).toBe('HX-Request, HX-History-Restore-Request, Accept-Encoding');
    // The page's tag sent by an htmx request: the fragment has changed for it, a 200.
    const other = await request(`${server.url}/`, { headers: { ...gzip, ...HX, 'If-None-Match': page.headers.etag as string } });
    expect(other.status).toBe(200);
    expect(other.headers.etag).toBe(fragment.headers.etag);
  });
});
