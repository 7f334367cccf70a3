/**
 * fileApp closes its file before its body reports the end or the close: `open` from
 * node:fs/promises is wrapped so each handle's close takes an extra turn of the event loop
 * and is logged; a body that answered without waiting for it would log before the close.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HTTPForbidden, Request, defineMiddleware } from 'tsgi';
import { fileApp } from 'tsgi/middleware';

const { log, closing } = vi.hoisted(() => ({ log: [] as string[], closing: new Set<Promise<void>>() }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (...args) => {
    const handle = await fs.open(...args);
    const close = handle.close.bind(handle);
    handle.close = () => {
      const closed = (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        await close();
        log.push('file closed');
      })();
      closing.add(closed);
      return closed;
    };
    return handle;
  };
  return { ...fs, default: { ...fs, open }, open };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-close-'));
const file = path.join(dir, 'big.bin');
writeFileSync(file, Buffer.alloc(200_000, 7));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  await Promise.all(closing); // a close the previous test did not wait for
  closing.clear();
  log.length = 0;
});

describe('fileApp closes its file before its body finishes', () => {
  const body = async () => (await fileApp(file)(Request.blank('/').environ, () => {})) as AsyncIterable<Uint8Array>;

  it('read to the end', async () => {
    let length = 0;
    for await (const chunk of await body()) length += chunk.byteLength;
    log.push('body ended');
    expect(length).toBe(200_000);
    expect(log).toEqual(['file closed', 'body ended']);
  });

  it('closed early, after a chunk or before any', async () => {
    const halfRead = (await body())[Symbol.asyncIterator]();
    await halfRead.next();
    await halfRead.return!();
    log.push('body closed');
    await (await body())[Symbol.asyncIterator]().return!();
    log.push('unread body closed');
    expect(log).toEqual(['file closed', 'body closed', 'file closed', 'unread body closed']);
  });
});

describe('a file response a middleware drops', () => {
  it('has its file closed by the time the answer is out', async () => {
    const refusing = defineMiddleware(async (req, app) => {
      await req.getResponse(app);
      throw new HTTPForbidden();
    });
    const res = await Request.blank('/').getResponse(refusing(fileApp(file)));
    log.push('answered');
    expect(res.statusCode).toBe(403);
    expect(log).toEqual(['file closed', 'answered']);
  });
});
