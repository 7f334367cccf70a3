/**
 * directoryApp with `precompressed: true` when a copy it found cannot be opened after all:
 * unreadable (EACCES, which a test run as root cannot get from `chmod`), deleted, or replaced
 * by a directory between the look-up and the open. `open` from node:fs/promises is wrapped
 * to do that to the copies named in `trouble`; the file itself is then served, over a socket.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { directoryApp, lint } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const { trouble } = vi.hoisted(() => ({ trouble: new Map<string, 'EACCES' | 'deleted' | 'directory'>() }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (...args) => {
    const what = trouble.get(path.basename(String(args[0])));
    if (what === 'EACCES') throw Object.assign(new Error(`EACCES: permission denied, open '${String(args[0])}'`), { code: 'EACCES' });
    if (what === 'deleted') await fs.unlink(String(args[0]));
    if (what === 'directory') {
      await fs.unlink(String(args[0]));
      await fs.mkdir(String(args[0]));
    }
    return fs.open(...args);
  };
  return { ...fs, default: { ...fs, open }, open };
});

let root: string;
const JS = `export const text = ${JSON.stringify('a copy that cannot be opened '.repeat(100))};\n`;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tsgi-precompressed-open-'));
  mkdirSync(path.join(root, 'assets'));
  for (const name of ['denied.js', 'gone.js', 'dir.js']) {
    writeFileSync(path.join(root, 'assets', name), JS);
    writeFileSync(path.join(root, 'assets', `${name}.br`), zlib.brotliCompressSync(JS));
  }
  trouble.set('denied.js.br', 'EACCES').set('gone.js.br', 'deleted').set('dir.js.br', 'directory');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('directoryApp: a precompressed copy that cannot be opened', () => {
  it('serves the file itself (200, uncoded, Vary), not a 403 or 404', async () => {
    const server = await start(lint(directoryApp(root, { precompressed: true })));
    for (const name of ['denied.js', 'gone.js', 'dir.js']) {
      const res = await request(`${server.url}/assets/${name}`, { headers: { 'accept-encoding': 'br' } });
      expect([name, res.status, res.headers['content-encoding'], res.headers.vary, res.body.toString()]).toEqual([name, 200, undefined, 'Accept-Encoding', JS]);
    }
    expect(server.log.text).toBe('');
  });
});
