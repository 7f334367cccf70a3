/**
 * `serve({ fd })`: listening on a socket this process got already open, as systemd socket
 * activation hands one over (descriptor 3), over real TCP and Unix sockets. The socket is bound
 * here and passed to a child process as its descriptor 3, which serves on it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from 'tsgi';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;
let script: string;
let clusterScript: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-fd-'));
  script = join(dir, 'serve-fd.mjs');
  writeFileSync(
    script,
    `import { serve } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  const { SERVER_NAME, SERVER_PORT, REMOTE_ADDR } = environ;
  return [new TextEncoder().encode(JSON.stringify({ SERVER_NAME, SERVER_PORT, REMOTE_ADDR }))];
};
const handle = await serve(app, { fd: 3 });
process.stdout.write(JSON.stringify({ url: handle.url, host: handle.host, port: handle.port, path: handle.path }) + '\\n');
process.once('SIGTERM', () => handle.close().then(() => process.exit(0)));
`,
  );
});
beforeAll(() => {
  // A program of its own on node:cluster: the primary holds the socket (descriptor 3), its
  // worker calls serve({ fd: 3 }), which node:cluster resolves in the primary (Node's docs).
  clusterScript = join(dir, 'serve-fd-cluster.mjs');
  writeFileSync(
    clusterScript,
    `import cluster from 'node:cluster';
import { serve } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
if (cluster.isPrimary) {
  const worker = cluster.fork();
  worker.on('message', (line) => process.stdout.write(line + '\\n'));
  process.once('SIGTERM', () => {
    worker.once('exit', () => process.exit(0));
    worker.kill();
  });
} else {
  const app = (environ, start) => {
    start('200 OK', [['Content-Type', 'application/json']]);
    return [new TextEncoder().encode(JSON.stringify({ worker: cluster.isWorker }))];
  };
  serve(app, { fd: 3 }).then(
    (handle) => process.send(JSON.stringify({ url: handle.url })),
    (error) => process.send(JSON.stringify({ error: String(error) })),
  );
}
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the child serving on `socket` (its descriptor 3), then closes this process's copy. */
async function serveOn(socket: net.Server, program = script): Promise<{ child: ChildProcess; started: Record<string, unknown> }> {
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  const child = spawn(process.execPath, ['--conditions=tsgi-source', program], { stdio: ['ignore', 'pipe', 'inherit', fd] });
  // From now on the child holds the socket: this process must not accept on it.
  await new Promise<void>((done) => socket.close(() => done()));
  const line = await new Promise<string>((done, fail) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) done(text.split('\n', 1)[0]!);
    });
    child.once('exit', (code) => fail(new Error(`the child exited (${code}) before serving`)));
  });
  return { child, started: JSON.parse(line) as Record<string, unknown> };
}

/** GET / on `options` (a port or a socket path), answering the JSON body. */
function get(options: http.RequestOptions): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    http
      .get({ ...options, path: '/', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => done({ status: res.statusCode, ...(JSON.parse(text) as object) }));
      })
      .on('error', fail);
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('serve({ fd })', () => {
  it('serves on a TCP socket handed over as descriptor 3; the handle and the environ say its address', async () => {
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(0, '127.0.0.1', done));
    const { port } = socket.address() as net.AddressInfo;
    const { child, started } = await serveOn(socket);
    try {
      expect(started).toEqual({ url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port });
      for (let i = 0; i < 3; i++) {
        expect(await get({ host: '127.0.0.1', port })).toMatchObject({ status: 200, SERVER_NAME: '127.0.0.1', SERVER_PORT: String(port), REMOTE_ADDR: '127.0.0.1' });
      }
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('serves on a Unix socket handed over as descriptor 3: SERVER_NAME localhost, SERVER_PORT the scheme’s', async () => {
    const bound = join(dir, 'bound.sock');
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(bound, done));
    // Closing this process's copy removes the path Node bound; a second link to the socket stays
    // (systemd, which binds the socket, keeps its path).
    const path = join(dir, 'app.sock');
    linkSync(bound, path);
    const { child, started } = await serveOn(socket);
    try {
      // Node cannot ask a Unix socket it did not bind for its path.
      expect(started).toMatchObject({ url: 'unix:', host: 'localhost', port: 0, path: '' });
      expect(await get({ socketPath: path })).toMatchObject({ status: 200, SERVER_NAME: 'localhost', SERVER_PORT: '80' });
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('in a node:cluster worker of an app’s own, listens on the primary’s descriptor, as node:cluster does', async () => {
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(0, '127.0.0.1', done));
    const { port } = socket.address() as net.AddressInfo;
    const { child, started } = await serveOn(socket, clusterScript);
    try {
      expect(started).toEqual({ url: `http://127.0.0.1:${port}` });
      expect(await get({ host: '127.0.0.1', port })).toEqual({ status: 200, worker: true });
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('refuses an fd that is no descriptor number, or one given with path, at once', async () => {
    const app = () => [];
    await expect(serve(app, { fd: -1 })).rejects.toThrow(new TypeError('serve: fd must be a non-negative integer (a file descriptor)'));
    await expect(serve(app, { fd: 1.5 })).rejects.toThrow(TypeError);
    await expect(serve(app, { fd: 3, path: join(dir, 'x.sock') })).rejects.toThrow(/fd and path cannot be combined/);
  });

  it('rejects for a descriptor that is not an open socket', async () => {
    const app = () => [];
    await expect(serve(app, { fd: 987 })).rejects.toMatchObject({ code: 'EINVAL', syscall: 'listen' });
  });
});
