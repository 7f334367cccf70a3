/**
 * docs/request.md's "Newline-delimited JSON, line by line" recipe, run as written over a real
 * socket: the NDJSON reader (line by line, a line limit, an event limit), also reading a gzip
 * batch under the `decodeBody` middleware.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const text = readFileSync(path.join(ROOT, 'docs/request.md'), 'utf8');
const at = text.indexOf('\n## Newline-delimited JSON, line by line\n');
const section = text.slice(at, text.indexOf('\n## ', at + 1));
const [ndjsonCode] = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-ndjson-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The NDJSON handler writes to the reader's `sink`: here an array.
writeFileSync(path.join(dir, 'ndjson.ts'), `export const seen: unknown[] = [];\nconst sink = { async write(event: unknown) { seen.push(event); } };\n${ndjsonCode!}`);
const { ndjson, seen } = (await import(path.join(dir, 'ndjson.ts'))) as { ndjson: App; seen: unknown[] };

const post = (url: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

describe("docs/request.md's NDJSON reader", () => {
  it('is in the docs', () => {
    expect(at).toBeGreaterThan(-1);
    expect(ndjsonCode).toContain('lines(req.stream(');
  });

  const lines = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ i })).join('\n');

  it('reads the events line by line, blank lines and a last line without newline included', async () => {
    seen.length = 0;
    const server = await start(ndjson);
    const res = await post(server.url, `${lines(3)}\n\n${JSON.stringify({ i: 3 })}`, { 'Content-Type': 'application/x-ndjson' });
    expect([res.status, res.body.toString()]).toEqual([202, '{"accepted":4}']);
    expect(seen).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
  });

  it('reads a gzip batch under decodeBody', async () => {
    seen.length = 0;
    const server = await start(decodeBody(ndjson));
    const res = await post(server.url, zlib.gzipSync(lines(500)), { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([202, '{"accepted":500}']);
    expect(seen).toHaveLength(500);
  });

  it('answers 413 for a line past its limit or too many events, 422 for a line that is no JSON', async () => {
    const server = await start(ndjson);
    const long = await post(server.url, `{"a":"${'x'.repeat(70 * 1024)}"}\n`);
    expect(long.status).toBe(413);
    expect(long.body.toString()).toContain('A line is longer than 65536 characters.');
    const many = await post(server.url, lines(10_001));
    expect(many.status).toBe(413);
    expect(many.body.toString()).toContain('More than 10000 events in one batch.');
    const bad = await post(server.url, '{"i":0}\nnot json\n');
    expect(bad.status).toBe(422);
    expect(bad.body.toString()).toContain('Line 2 is not JSON.');
  });
});
