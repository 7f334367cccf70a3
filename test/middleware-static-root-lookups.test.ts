/**
 * directoryApp with `followSymlinks: true`: a site whose files are links out of the root on
 * purpose (a shared assets folder) does not look the root's real path up again on every
 * request for them. `realpath` from node:fs/promises is wrapped to count the lookups of the
 * root; a followed link whose real path holds no dot segment is visible under any root, so only
 * a miss, a directory or a real path with a dot segment (one a swapped root may hide) pays for a
 * second look (test/middleware-static.test.ts keeps the swapped root's dotfiles hidden). Over a
 * socket.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { directoryApp } from 'tsgi/middleware';
import { parseRaw, rawExchange, serveForSuite } from './node-helpers.ts';

const { lookups } = vi.hoisted(() => ({ lookups: [] as string[] }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const realpath = ((target: string, ...rest: []) => {
    lookups.push(String(target));
    return fs.realpath(target, ...rest);
  }) as typeof fs.realpath;
  return { ...fs, default: { ...fs, realpath }, realpath };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-root-lookups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, 'site');
mkdirSync(root);
mkdirSync(path.join(dir, 'shared'));
writeFileSync(path.join(dir, 'shared', 'app.css'), 'body{}');
symlinkSync(path.join(dir, 'shared', 'app.css'), path.join(root, 'app.css'));

describe('directoryApp following links out of its root', () => {
  const served = serveForSuite(directoryApp(root, { followSymlinks: true }));
  const get = async (target: string) => parseRaw((await rawExchange(served.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`)).raw);

  it('looks the root up once, not on every request for a linked file', async () => {
    for (let i = 0; i < 5; i++) {
      const answer = await get('/app.css');
      expect([answer.status, answer.rest]).toEqual([200, 'body{}']);
    }
    expect(lookups.filter((target) => target === root)).toHaveLength(1);
  });
});
