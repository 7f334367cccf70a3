/**
 * A static file whose mtime no HTTP-date can name (past year 9999, before year 0: a bogus date
 * from an archive, kept by tmpfs, btrfs or ZFS; ext4 clamps to 2446) is served, not a 500.
 */
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directoryApp, fileApp } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const FAR_FUTURE = new Date(300_000_000_000_000); // year 11476
const FAR_PAST = new Date(-70_000_000_000_000); // year -249

/** A fresh directory on a file system that keeps both dates as given (tmpfs does), else null. */
function keepingDates(): string | null {
  for (const base of ['/dev/shm', tmpdir()]) {
    let dir: string | null = null;
    try {
      dir = mkdtempSync(path.join(base, 'tsgi-mtime-'));
      const probe = path.join(dir, 'probe');
      writeFileSync(probe, '');
      utimesSync(probe, FAR_FUTURE, FAR_FUTURE);
      const future = statSync(probe).mtimeMs === FAR_FUTURE.getTime();
      utimesSync(probe, FAR_PAST, FAR_PAST);
      if (future && statSync(probe).mtimeMs === FAR_PAST.getTime()) return dir;
    } catch {
      // no such file system here: try the next
    }
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
  return null;
}

const dir = keepingDates();

describe.skipIf(dir === null)('a static file whose mtime is no HTTP-date (socket)', () => {
  afterAll(() => rmSync(dir!, { recursive: true, force: true }));

  it('past year 9999: served with Last-Modified sent as now (the Date), as any future mtime', async () => {
    const file = path.join(dir!, 'future.txt');
    writeFileSync(file, 'unpacked from an archive with a bogus date');
    utimesSync(file, FAR_FUTURE, FAR_FUTURE);
    for (const app of [fileApp(file), directoryApp(dir!)]) {
      const server = await start(app);
      const res = await request(`${server.url}/future.txt`);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('unpacked from an archive with a bogus date');
      expect(res.headers['last-modified']).toBe(res.headers.date);
      expect(server.log.text).toBe('');
    }
  });

  it('before year 0: served without Last-Modified, revalidated by its ETag', async () => {
    const file = path.join(dir!, 'past.txt');
    writeFileSync(file, 'dated before year 0');
    utimesSync(file, FAR_PAST, FAR_PAST);
    const server = await start(fileApp(file, { headers: { 'Last-Modified': 'Mon, 01 Jan 2024 00:00:00 GMT' } }));
    const res = await request(server.url);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('dated before year 0');
    expect(res.headers['last-modified']).toBeUndefined();
    const again = await request(server.url, { headers: { 'if-none-match': res.headers.etag as string } });
    expect(again.status).toBe(304);
    expect(server.log.text).toBe('');
  });
});
