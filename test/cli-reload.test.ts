/**
 * `tsgi serve --reload`: a change under the module's folder (or a --reload-dir) restarts the
 * server on the same port, whether the file is written in place or replaced by a rename (as
 * editors save), created, deleted or in a folder made later; a syntax error is printed and the
 * supervisor waits for the next change; SIGINT stops everything.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, alive, cli, get, onTerminal, servingUrl, waitFor } from './cli-helpers.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-reload-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A module answering `text` (from a file it imports, so a change there counts too). */
function writeApp(folder: string, text: string): void {
  writeFileSync(join(folder, 'message.ts'), messageModule(text));
  writeFileSync(
    join(folder, 'app.ts'),
    `import { message } from './message.ts';
export const app = (_environ: object, start: (status: string, headers: [string, string][]) => void) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(message)];
};
`,
  );
}

/** Saves `text` to `path` as `sed -i` and many editors do: a temp file renamed over it. */
function saveAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** A module exporting `message`. */
const messageModule = (text: string) => `export const message: string = ${JSON.stringify(text)};\n`;

/**
 * Serves, with `--reload`, an app in `dir/<name>` answering `message.ts`'s message (`one` at
 * first), its process id at `/pid`, and `slowPath` after `ms` milliseconds.
 */
async function slowApp(name: string, slowPath: string, ms: number) {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeFileSync(join(folder, 'message.ts'), messageModule('one'));
  writeFileSync(
    join(folder, 'app.ts'),
    `import { message } from './message.ts';
export const app = async (environ: { PATH_INFO: string }, start: (status: string, headers: [string, string][]) => void) => {
  if (environ.PATH_INFO === ${JSON.stringify(slowPath)}) {
    process.stdout.write('at ${slowPath}\\n'); // in flight: what a test waits for, not a fixed sleep
    await new Promise((resolve) => setTimeout(resolve, ${ms}));
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(environ.PATH_INFO === '/pid' ? String(process.pid) : message)];
};
`,
  );
  return serveReloading(folder);
}

/** Serves `folder/app.ts` with `--reload` and no access log; once it serves, its run, URL and output. */
async function serveReloading(folder: string) {
  const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--no-access-log']);
  const url = await servingUrl(run);
  const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
  return { folder, run, url, output };
}

/** {@link writeApp} answering `text` in a new folder `dir/<name>`, served by {@link serveReloading}. */
async function reloadingApp(name: string, text: string) {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeApp(folder, text);
  return serveReloading(folder);
}

/** GETs `url` until it answers `text` (the restarted server). */
async function until(url: string, text: string, what: () => string): Promise<void> {
  let last = '';
  const deadline = Date.now() + 20_000;
  while (last !== text) {
    if (Date.now() > deadline) throw new Error(`still '${last}': ${what()}`);
    last = await get(url, {}, 2_000).then(
      (res) => res.body,
      () => '',
    );
    if (last !== text) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('tsgi serve --reload', () => {
  it('restarts on a change, waits out a syntax error, and stops on SIGINT', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'site');
    mkdirSync(folder);
    writeApp(folder, 'first');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload']);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    expect(run.out.stdout).toMatch(/ reload on\)\n/);
    expect((await get(url)).body).toBe('first');

    // A change in an imported file: the same port answers the new text.
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "second";\n');
    await until(url, 'second', output);
    expect(run.out.stdout).toMatch(/^Change in .*message\.ts: restarting$/m);
    expect(run.out.stdout).toContain(`Reloaded: serving on ${url}`);
    // The supervisor prints the start line; the child (at start or restart) does not repeat it.
    expect(run.out.stdout.match(/^Serving on /gm), output()).toHaveLength(1);

    // A syntax error: printed, and the supervisor waits.
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = ;\n');
    await waitFor(() => /waiting for a change to restart it/.test(run.out.stderr), output, 20_000);
    expect(run.out.stderr).toMatch(/error while loading/);
    expect(run.child.exitCode).toBeNull();

    // Fixed: serving again. A change to a file that is not code does nothing.
    writeFileSync(join(folder, 'notes.txt'), 'not code');
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "third";\n');
    await until(url, 'third', output);
    expect(run.out.stdout).not.toContain('notes.txt');

    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    await expect(get(url, {}, 2_000)).rejects.toThrow();
  });

  it('ignores $WEB_CONCURRENCY: one serving process that reloads, as uvicorn', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'concurrency-site');
    mkdirSync(folder);
    writeApp(folder, 'first');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload'], { WEB_CONCURRENCY: '2' });
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    // It was a primary with 2 workers, each running a supervisor of its own.
    expect(run.out.stdout, output()).toMatch(/\(HTTP\/1\.1, 1 process, Node v[\d.]+, reload on\)\n/);
    expect((await get(url)).body).toBe('first');
    writeFileSync(join(folder, 'message.ts'), messageModule('second'));
    await until(url, 'second', output);
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stdout.match(/^Stopping on SIGINT/gm), output()).toEqual(['Stopping on SIGINT']);
  });

  it('--limit-max-requests restarts the app after n requests, as a change does, instead of leaving the next ones waiting', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'limit-site');
    mkdirSync(folder);
    writeApp(folder, 'served');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--no-access-log', '--limit-max-requests', '2']);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    // The 2nd request reaches the limit (it is served); the 3rd waits for the next child.
    for (let i = 0; i < 3; i++) expect((await get(url, {}, 15_000)).body, output()).toBe('served');
    expect(run.out.stdout).toMatch(/^The app served 2 requests \(--limit-max-requests\): restarting$/m);
    await waitFor(() => run.out.stdout.includes('Reloaded: serving on'), output);
    expect(run.out.stderr, output()).toBe('');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('on a Unix socket, serves again after the app crashed (its socket file left behind)', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'uds-site');
    mkdirSync(folder);
    const socketPath = join(folder, 'app.sock');
    const write = (text: string) =>
      writeFileSync(
        join(folder, 'app.mjs'),
        `export const app = (environ, start) => {
  if (environ.PATH_INFO === '/crash') process.exit(3);
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(${JSON.stringify(text)})];
};
`,
      );
    const request = (target: string) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ socketPath, path: target, agent: false, timeout: 2_000 }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('timeout', function (this: http.ClientRequest) {
            this.destroy(new Error('timeout'));
          })
          .on('error', reject);
      });
    write('first');
    const run = cli(['serve', join(folder, 'app.mjs'), '--uds', socketPath, '--reload']);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    expect(await servingUrl(run)).toBe(`unix:${socketPath}`);
    expect(await request('/')).toBe('first');
    await request('/crash').catch(() => '');
    await waitFor(() => /the app stopped \(exit code 3\)/.test(run.out.stderr), output, 20_000);
    write('second');
    let last = '';
    const deadline = Date.now() + 20_000;
    while (last !== 'second' && Date.now() < deadline) {
      last = await request('/').catch(() => '');
      if (last !== 'second') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(last, output()).toBe('second');
    expect(run.out.stderr).not.toMatch(/EADDRINUSE|address already in use/);
  });

  it('watches --reload-dir instead of the module folder, and says so; its child ends with it', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'watched');
    const other = join(dir, 'elsewhere');
    mkdirSync(folder);
    mkdirSync(other);
    writeApp(folder, 'one');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--reload-dir', other]);
    const url = await servingUrl(run);
    // The start says what is watched: the --reload-dir, not the module's folder.
    expect(run.out.stdout).toMatch(/^Watching for changes to \.ts, \.mts, \.cts, \.js, \.mjs, \.cjs and \.json files in (.+) \(node_modules, \.git and dot-files aside\)$/m);
    expect(/^Watching for changes .* files in (.+) \(/m.exec(run.out.stdout)?.[1]).toBe(other);
    writeFileSync(join(folder, 'message.ts'), 'export const message: string = "ignored";\n');
    writeFileSync(join(other, 'trigger.json'), '{}');
    await waitFor(() => /^Change in .*trigger\.json: restarting$/m.test(run.out.stdout), () => run.out.stdout, 20_000);
    // The restart loads the module afresh, with the change made meanwhile.
    await until(url, 'ignored', () => run.out.stdout);
    expect(run.out.stdout).not.toMatch(/Change in .*message\.ts/);
    // The supervisor killed outright: its child does not outlive it.
    run.child.kill('SIGKILL');
    await run.exited;
    let refused = false;
    const deadline = Date.now() + 10_000;
    while (!refused && Date.now() < deadline) {
      refused = await get(url, {}, 1_000).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused).toBe(true);
  });

  it('a child still loading the app (a top-level await that waits on and on) ends with its supervisor killed outright', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'loading-orphan');
    mkdirSync(folder);
    const pidFile = join(folder, 'child.pid');
    // As a module retrying a database that is down: the load never ends, yet the event loop has work.
    writeFileSync(
      join(folder, 'app.ts'),
      `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
await new Promise(() => setInterval(() => {}, 1_000));
export const app = () => [];
`,
    );
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload']);
    let pid = 0;
    await waitFor(() => {
      try {
        pid = Number(readFileSync(pidFile, 'utf8'));
      } catch {
        // not written yet
      }
      return pid > 0;
    }, () => `the child did not start: ${run.out.stderr}`, 20_000);
    run.child.kill('SIGKILL');
    // Not run.exited: that waits for the output pipes, which the child holds too.
    await waitFor(() => run.child.signalCode !== null, () => 'the supervisor did not die');
    // It would hold the supervisor's socket, and the port with it, for ever.
    await waitFor(() => !alive(pid), () => `the child ${pid} outlived its supervisor`, 10_000);
  });

  it('keeps reloading after atomic saves, in-place writes, and a file deleted then created again', { timeout: 90_000 }, async () => {
    const { folder, run, url, output } = await reloadingApp('atomic', 'v1');
    expect((await get(url)).body).toBe('v1');

    // Each rename over the file counts, not only the first (Node's recursive watch on Linux
    // follows the replaced file's inode and misses every later change).
    for (const version of ['v2', 'v3', 'v4']) {
      saveAtomically(join(folder, 'message.ts'), messageModule(version));
      await until(url, version, output);
    }
    saveAtomically(join(folder, 'app.ts'), `export { app } from './serve.ts';\n`);
    writeFileSync(
      join(folder, 'serve.ts'),
      `import { message } from './message.ts';
export const app = (_environ: object, start: (status: string, headers: [string, string][]) => void) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('new file: ' + message)];
};
`,
    );
    await until(url, 'new file: v4', output);
    writeFileSync(join(folder, 'message.ts'), messageModule('v5'));
    await until(url, 'new file: v5', output);

    // Deleted: the app cannot load; created again: served again, and atomic saves still count.
    rmSync(join(folder, 'message.ts'));
    await waitFor(() => /waiting for a change to restart it/.test(run.out.stderr), output, 20_000);
    writeFileSync(join(folder, 'message.ts'), messageModule('v6'));
    await until(url, 'new file: v6', output);
    saveAtomically(join(folder, 'message.ts'), messageModule('v7'));
    await until(url, 'new file: v7', output);
    expect(run.out.stdout).not.toContain('.tmp');
  });

  it('watches a folder made after the start, and one deleted then made again', { timeout: 90_000 }, async () => {
    const { folder, run, url, output } = await reloadingApp('growing', 'root');
    const lib = join(folder, 'lib');
    mkdirSync(lib);
    saveAtomically(join(lib, 'message.ts'), messageModule('lib 1'));
    saveAtomically(join(folder, 'message.ts'), `export { message } from './lib/message.ts';\n`);
    await until(url, 'lib 1', output);
    for (const version of ['lib 2', 'lib 3']) {
      saveAtomically(join(lib, 'message.ts'), messageModule(version));
      await until(url, version, output);
    }

    rmSync(lib, { recursive: true });
    await waitFor(() => /waiting for a change to restart it/.test(run.out.stderr), output, 20_000);
    mkdirSync(join(lib, 'deeper'), { recursive: true });
    writeFileSync(join(lib, 'message.ts'), `export { message } from './deeper/message.ts';\n`);
    saveAtomically(join(lib, 'deeper', 'message.ts'), messageModule('deep 1'));
    await until(url, 'deep 1', output);
    for (const version of ['deep 2', 'deep 3']) {
      saveAtomically(join(lib, 'deeper', 'message.ts'), messageModule(version));
      await until(url, version, output);
    }
  });
  it('a restart whose process cannot be started (Node removed by an upgrade) is logged, and the next change starts it', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'fork-failure');
    mkdirSync(folder);
    writeApp(folder, 'one');
    // Node run from a path of its own, as a Homebrew or nvm install that an upgrade removes.
    const bin = join(dir, 'fork-failure-bin');
    mkdirSync(bin);
    const node = join(bin, 'node');
    const install = () => {
      try {
        linkSync(process.execPath, node);
      } catch {
        copyFileSync(process.execPath, node); // another file system
      }
    };
    install();
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--no-access-log'], {}, undefined, ['sh', '-c', 'shift; exec "$0" "$@"', node]);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    expect((await get(url)).body).toBe('one');
    rmSync(node);
    writeFileSync(join(folder, 'message.ts'), messageModule('two'));
    await waitFor(() => /waiting for a change/.test(run.out.stderr), output, 20_000);
    expect(run.out.stderr).toBe(`tsgi: cannot start the app (spawn ${node} ENOENT); waiting for a change to restart it\n`);
    expect(run.child.exitCode, output()).toBeNull();
    install();
    writeFileSync(join(folder, 'message.ts'), messageModule('three'));
    await until(url, 'three', output);
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 at once when the address is in use at the start, as without --reload', { timeout: 30_000 }, async () => {
    const folder = join(dir, 'in-use');
    mkdirSync(folder);
    writeApp(folder, 'never served');
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const run = cli(['serve', join(folder, 'app.ts'), '--port', String(port), '--reload']);
      const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
      const exited = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
      expect(exited, output()).toEqual({ code: 1, signal: null });
      expect(run.out.stderr).toBe(
        `tsgi: cannot listen on 127.0.0.1:${port}: address already in use (another process listens there: stop it, or choose another --port)\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('answers a request sent while the app restarts from the new code, and one sent while it cannot load once fixed, never refusing it', { timeout: 60_000 }, async () => {
    const { folder, run, url, output } = await reloadingApp('held', 'old');
    try {
      expect((await get(url)).body).toBe('old');
      // The new code takes a second to load: a request sent meanwhile waits for it.
      writeFileSync(join(folder, 'message.ts'), `await new Promise((resolve) => setTimeout(resolve, 1_000));\n${messageModule('new')}`);
      await waitFor(() => /^Change in .*message\.ts: restarting$/m.test(run.out.stdout), output, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const during = await get(url, {}, 15_000).then(
        (res) => `${res.status} ${res.body}`,
        (error: Error) => error.message,
      );
      expect(during, output()).toBe('200 new');
      // A syntax error: a request waits until the fix, and gets the fixed code's answer.
      writeFileSync(join(folder, 'message.ts'), 'export const message: string = ;\n');
      await waitFor(() => /waiting for a change/.test(run.out.stderr), output, 10_000);
      const waiting = get(url, {}, 15_000).then(
        (res) => `${res.status} ${res.body}`,
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      writeFileSync(join(folder, 'message.ts'), messageModule('fixed'));
      expect(await waiting, output()).toBe('200 fixed');
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
    // Ctrl-C closed the socket.
    const after = await get(url, {}, 5_000).then(
      () => 'answered',
      (error: Error & { code?: string }) => error.code,
    );
    expect(after).toBe('ECONNREFUSED');
  });

  it('cuts a request still running 5 s after a change, and says so', { timeout: 60_000 }, async () => {
    const { folder, run, url, output } = await slowApp('stuck', '/stuck', 60_000);
    const stuck = get(`${url}/stuck`, {}, 20_000).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    // The change once the request is in flight in the child (300 ms could come first on a
    // loaded machine: the new child would get it, and nothing would be cut).
    await waitFor(() => run.out.stdout.includes('at /stuck\n'), output);
    writeFileSync(join(folder, 'message.ts'), messageModule('two'));
    await until(url, 'two', output);
    expect(await stuck).toMatch(/socket hang up|ECONNRESET/);
    expect(run.out.stderr, output()).toMatch(/^tsgi: the app was still running 5 s after the change \(a request in flight\?\): killing it$/m);
  });
  it('gives a request on a connection the supervisor accepted the graceful stop at a change, as one the child accepted', { timeout: 60_000 }, async () => {
    const { folder, run, url, output } = await slowApp('handed', '/slow', 3_500);
    try {
      const pid = Number((await get(`${url}/pid`)).body);
      // The child stopped, the supervisor is the one to accept: it hands the connection over.
      process.kill(pid, 'SIGSTOP');
      const slow = get(`${url}/slow`, {}, 20_000).then(
        (res) => `${res.status} ${res.body}`,
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(pid, 'SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 200));
      writeFileSync(join(folder, 'message.ts'), messageModule('two'));
      expect(await slow, output()).toBe('200 one');
      await until(url, 'two', output);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
  it('a client that resets a connection the supervisor holds (the app cannot load) or hands over is only gone: the supervisor serves on', { timeout: 60_000 }, async () => {
    const { folder, run, url, output } = await reloadingApp('reset-held', 'ok');
    const { port } = new URL(url);
    const resetAfter = (request: string, wait: number) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => resolve());
        socket.once('connect', () => socket.write(request, () => setTimeout(() => socket.resetAndDestroy(), wait)));
      });
    try {
      writeFileSync(join(folder, 'message.ts'), 'export const message: string = ;\n');
      await waitFor(() => /waiting for a change/.test(run.out.stderr), output, 10_000);
      // Held by the supervisor, unread, then reset; and reset once handed to the fixed app.
      await Promise.all([0, 1, 2].map(() => resetAfter('GET / HTTP/1.1\r\nHost: h\r\n\r\n', 10)));
      await Promise.all([0, 1, 2].map(() => resetAfter('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\n\r\nabc', 10)));
      const resetLater = [0, 1, 2].map(() => resetAfter('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\n\r\nabc', 600));
      await new Promise((resolve) => setTimeout(resolve, 200));
      writeFileSync(join(folder, 'message.ts'), messageModule('fixed'));
      await Promise.all(resetLater);
      await until(url, 'fixed', output);
      expect(run.out.stderr, output()).not.toMatch(/ECONNRESET|Uncaught|uncaught/);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('holds at most 511 connections while the app cannot load, as a listen backlog, closing the rest', { timeout: 60_000 }, async () => {
    const { folder, run, url, output } = await reloadingApp('flood', 'ok');
    const { port } = new URL(url);
    const sockets: net.Socket[] = [];
    try {
      writeFileSync(join(folder, 'message.ts'), 'export const message: string = ;\n');
      await waitFor(() => /waiting for a change/.test(run.out.stderr), output, 10_000);
      let closed = 0;
      for (let i = 0; i < 600; i++) {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', () => {});
        socket.on('close', () => closed++);
        sockets.push(socket);
      }
      await waitFor(() => closed >= 89, () => `${closed} closed; ${output()}`, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(closed).toBe(89);
    } finally {
      for (const socket of sockets) socket.destroy();
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
  it('restarts once for an editor writing a file three times in 50 ms, never for node_modules, .git or dot-files', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'bursts');
    mkdirSync(join(folder, 'node_modules', 'dep'), { recursive: true });
    mkdirSync(join(folder, '.git'));
    writeApp(folder, 'start');
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--no-access-log']);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    writeFileSync(join(folder, 'node_modules', 'dep', 'index.js'), 'export {};\n');
    writeFileSync(join(folder, '.git', 'hook.js'), 'export {};\n');
    writeFileSync(join(folder, '.scratch.ts'), 'export {};\n');
    writeFileSync(join(folder, '.env'), 'A=1\n');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(run.out.stdout, output()).not.toContain('Change in');
    for (const text of ['burst 1', 'burst 2', 'burst 3']) {
      writeFileSync(join(folder, 'message.ts'), messageModule(text));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(url, 'burst 3', output);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(run.out.stdout.match(/^Change in .*: restarting$/gm), output()).toEqual([expect.stringMatching(/message\.ts: restarting$/)]);
    expect(run.out.stdout.match(/^Reloaded: /gm), output()).toHaveLength(1);
  });

  it('a second Ctrl-C cuts the requests in flight at once, and says so', { timeout: 30_000 }, async () => {
    const folder = join(dir, 'second-signal');
    mkdirSync(folder);
    writeFileSync(
      join(folder, 'app.ts'),
      `export const app = async (_environ: object, start: (status: string, headers: [string, string][]) => void) => {
  process.stdout.write('received\\n');
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('late')];
};
`,
    );
    const run = cli(['serve', join(folder, 'app.ts'), '--port', '0', '--reload', '--no-access-log']);
    const url = await servingUrl(run);
    const output = () => `stdout: ${run.out.stdout}\nstderr: ${run.out.stderr}`;
    const stuck = get(url, {}, 20_000).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    // The first Ctrl-C once the request is in flight (not 300 ms later: it may not be there yet,
    // and the child would stop at once with nothing to cut).
    await waitFor(() => run.out.stdout.includes('received\n'), output);
    run.child.kill('SIGINT');
    await waitFor(() => run.out.stdout.includes('Stopping on SIGINT'), output);
    const signalled = Date.now();
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    // Cut at the second signal, not at the supervisor's 5 s (4 s: room for a loaded machine).
    expect(Date.now() - signalled).toBeLessThan(4_000);
    expect(await stuck).toMatch(/socket hang up|ECONNRESET/);
    expect(run.out.stderr, output()).toMatch(/^tsgi: SIGINT during the graceful shutdown: cutting the requests in flight$/m);
  });

  it('on a terminal, names the watched folder in the banner', { timeout: 30_000 }, async () => {
    const folder = join(dir, 'terminal');
    mkdirSync(folder);
    writeApp(folder, 'tty');
    const run = onTerminal([join(folder, 'app.ts'), '--port', '0', '--reload']);
    try {
      await waitFor(() => run.output().includes('Press Ctrl-C to stop'), () => `no banner: ${JSON.stringify(run.output())}`);
      // eslint-disable-next-line no-control-regex
      const plain = run.output().replace(/\u001b\[[\d;]*m/g, '').replace(/\r/g, '');
      const lines = plain.split('\n');
      const serving = lines.findIndex((line) => line.includes('Serving on http://'));
      expect(lines.slice(serving + 1, serving + 3).map((line) => line.trim()), plain).toEqual([
        expect.stringMatching(/^HTTP\/1\.1 · 1 process · Node v[\d.]+ · reload on$/),
        `Watching ${folder} for changes to .ts, .mts, .cts, .js, .mjs, .cjs and .json files`,
      ]);
      // Said once, in the banner: not also as the line printed where there is no terminal.
      expect(plain).not.toContain('Watching for changes to');
    } finally {
      await run.stop();
    }
  });
});
