/**
 * `bindWorkerSocket` (src/cli/worker-socket.ts), the socket the primary of `tsgi serve
 * --workers 1` binds and keeps: a bound descriptor to hand to the worker where Node's
 * `net._createServerHandle` is a function, and `undefined`, binding nothing, where it is not (a
 * future Node) or on Windows, so that `runPrimary` falls back to node:cluster. The lookup and
 * the platform are stubbed on the very `node:net` module and `process` the CLI's module reads.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bindWorkerSocket } from '../src/cli/worker-socket.ts';

type Net = { _createServerHandle?: unknown };
const original = (net as unknown as Net)._createServerHandle;
const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-worker-socket-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  (net as unknown as Net)._createServerHandle = original;
  Object.defineProperty(process, 'platform', platform);
});

describe('bindWorkerSocket', () => {
  it('binds a port and a Unix socket where net._createServerHandle is a function (this Node)', async () => {
    expect(typeof original).toBe('function');
    const port = await bindWorkerSocket({ host: '127.0.0.1', port: 0 });
    expect(port?.fd).toBeGreaterThanOrEqual(0);
    port!.close();
    const path = join(dir, 'bound.sock');
    const uds = await bindWorkerSocket({ path });
    expect(uds?.fd).toBeGreaterThanOrEqual(0);
    expect(existsSync(path)).toBe(true);
    uds!.close();
  });

  it('answers undefined, binding nothing, where net._createServerHandle is no function (a future Node)', async () => {
    (net as unknown as Net)._createServerHandle = undefined;
    expect(await bindWorkerSocket({ host: '127.0.0.1', port: 0 })).toBeUndefined();
    const path = join(dir, 'future.sock');
    expect(await bindWorkerSocket({ path })).toBeUndefined();
    expect(existsSync(path)).toBe(false);
  });

  it('answers undefined on Windows without binding', async () => {
    const create = vi.fn(original as (...args: unknown[]) => unknown);
    (net as unknown as Net)._createServerHandle = create;
    Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
    expect(await bindWorkerSocket({ host: '127.0.0.1', port: 0 })).toBeUndefined();
    expect(await bindWorkerSocket({ path: '\\\\.\\pipe\\tsgi-worker-socket' })).toBeUndefined();
    expect(create).not.toHaveBeenCalled();
  });
});
