/**
 * What importing an entry point loads: the dependencies most apps never use on a request load
 * when first used, not at import (docs/performance.md, "Start-up"), and that first use works
 * as any later one. Each case runs in a fresh process (test/fixtures/loaded-packages.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A fresh Node process each, on a machine that may be busy. */
const TIMEOUT = 60_000;

interface Loaded {
  atImport: string[];
  afterUse: string[];
  answer?: string;
}

/** What `entry` loads, and then `use`; `missing` names a package whose import fails as where it is not installed. */
async function loadedBy(entry: string, use?: string, missing?: string): Promise<Loaded> {
  const args = ['--conditions=tsgi-source', 'test/fixtures/loaded-packages.ts', entry, ...(use === undefined ? [] : [use])];
  const env = { ...process.env, TSGI_TEST_MISSING: missing ?? '' };
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT, env });
  return JSON.parse(stdout) as Loaded;
}

/** Each entry point, and the packages it must not load until they are used. */
const DEFERRED: Array<[entry: string, packages: string[]]> = [
  ['tsgi', ['busboy']],
  ['tsgi/forms', ['busboy']],
  ['tsgi/routing', ['busboy']],
  ['tsgi/fetch', ['busboy']],
  ['tsgi/middleware', ['busboy', 'compressible', 'mime-db']],
  ['tsgi/testing', ['busboy', 'iconv-lite']],
  ['tsgi/proxy', ['busboy', 'undici', 'parse5', 'parse5-html-rewriting-stream', 'parse5-sax-parser']],
];

describe('import footprint', () => {
  it.each(DEFERRED)('%s loads none of %j at import', async (entry, packages) => {
    const { atImport } = await loadedBy(entry);
    expect(atImport.filter((name) => packages.includes(name))).toEqual([]);
  }, TIMEOUT);

  it('parses the first multipart form a process receives, loading busboy then', async () => {
    const { atImport, afterUse, answer } = await loadedBy('tsgi', 'multipart');
    expect(answer).toBe('200 {"field":"value","file":"file content"}');
    expect(atImport).not.toContain('busboy');
    expect(afterUse).toContain('busboy');
  }, TIMEOUT);

  it.each(['compress', 'precompressed'])('answers two first requests of %s together, loading compressible then', async (use) => {
    const { atImport, afterUse, answer } = await loadedBy('tsgi/middleware', use);
    const each = use === 'compress' ? '200 gzip 2000 chars' : '200 gzip precompressed copy';
    expect(answer).toBe(`${each} | ${each}`);
    expect(atImport).not.toContain('compressible');
    expect(afterUse).toContain('compressible');
  }, TIMEOUT);

  it.each(['compress', 'precompressed'])('answers %s 500 when compressible cannot be imported, without hanging', async (use) => {
    const { answer } = await loadedBy('tsgi/middleware', use, 'compressible');
    expect(answer).toBe('500 null Internal Server Error\n | 500 null Internal Server Error\n');
  }, TIMEOUT);

  it('submits two first forms of a Shift_JIS page together, loading iconv-lite then', async () => {
    const { atImport, afterUse, answer } = await loadedBy('tsgi/testing', 'shiftJisForms');
    expect(answer).toBe('200 OK city=%93%8C%8B%9E | 200 OK city=%93%8C%8B%9E');
    expect(atImport).not.toContain('iconv-lite');
    expect(afterUse).toContain('iconv-lite');
  }, TIMEOUT);

  it('rejects the submission of a Shift_JIS form, naming iconv-lite, when it cannot be imported', async () => {
    const { answer } = await loadedBy('tsgi/testing', 'shiftJisForms', 'iconv-lite');
    expect(answer).toMatch(/^rejected: Error: Cannot find package 'iconv-lite'.* \| rejected: Error: Cannot find package 'iconv-lite'/);
  }, TIMEOUT);

  it('forwards the first request a proxy receives, loading undici then', async () => {
    const { atImport, afterUse, answer } = await loadedBy('tsgi/proxy', 'proxy');
    expect(answer).toBe('200 upstream saw /a/b');
    expect(atImport).not.toContain('undici');
    expect(afterUse).toContain('undici');
  }, TIMEOUT);

  it('rewrites the first page rewriteHtml is given, loading parse5 then', async () => {
    const { atImport, afterUse, answer } = await loadedBy('tsgi/proxy', 'rewriteHtml');
    expect(answer).toBe('200 <meta charset="utf-8"><a href="/new">x</a>');
    expect(atImport).not.toContain('parse5');
    expect(afterUse).toContain('parse5-html-rewriting-stream');
  }, TIMEOUT);
});
