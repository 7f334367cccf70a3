/**
 * The `tsgi` CLI, run as a child process with the project's Node (vitest runs under it):
 * `node --conditions=tsgi-source src/cli/main.ts …`, as `npm start` does.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, alive, cli, finish, get, keptConnection, servingUrl, waitFor } from './cli-helpers.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let fixtures: string;

beforeAll(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'tsgi-cli-'));
  // Raw apps without imports, so they load from any folder.
  writeFileSync(
    join(fixtures, 'pid.mjs'),
    `export const app = (environ, start) => {
  if (environ.PATH_INFO === '/crash') process.exit(3);
  if (environ.PATH_INFO === '/slow') {
    process.stdout.write('received /slow\\n');
    const ms = Number(/(?:^|&)ms=(\\d+)/.exec(environ.QUERY_STRING ?? '')?.[1] ?? 300);
    return (async function* () {
      await new Promise((resolve) => setTimeout(resolve, ms));
      start('200 OK', [['Content-Type', 'text/plain']]);
      yield new TextEncoder().encode('slow done');
    })();
  }
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ pid: process.pid, multiprocess: environ['tsgi.multiprocess'] }))];
};
export default app;
`,
  );
  writeFileSync(join(fixtures, 'not-app.mjs'), 'export const app = 42;\nexport const other = { respond: 1 };\n');
  // An export awaiting something that never answers (a database down), with a timer alive.
  writeFileSync(
    join(fixtures, 'hangs.mjs'),
    "process.stdout.write('loading\\n');\nexport const app = new Promise(() => setInterval(() => {}, 1000));\n",
  );
  writeFileSync(join(fixtures, 'throws.mjs'), "throw new Error('broken on purpose');\n");
  writeFileSync(
    join(fixtures, 'promise.mjs'),
    `export const app = Promise.resolve((environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('from a promise')];
});
`,
  );
});

afterAll(() => {
  rmSync(fixtures, { recursive: true, force: true });
});

/**
 * Feeds the `--env-file` FIFO `fifo` to each process that opens it, and sends `child` SIGHUP at
 * the second opening (Node opens it first, before tsgi's code runs; the second is tsgi reading
 * it): tsgi's own modules are loaded, no SIGHUP handler of the command is in place yet.
 * `stop()` ends the feeding.
 */
function hangUpWhileStarting(fifo: string, child: ChildProcess): { stop: () => Promise<void> } {
  let feeding = true;
  const feeder = (async () => {
    for (let opened = 1; feeding; ) {
      let handle;
      try {
        // Non-blocking, so no thread waits for a reader: ENXIO while none has it open.
        handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      if (opened++ === 2) child.kill('SIGHUP');
      await handle.write('TSGI_FIFO=1\n');
      await handle.close();
      // Until this reader is done with it: its next opening is another read.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      feeding = false;
      await feeder;
    },
  };
}

describe('tsgi serve', () => {
  it('serves examples/demo.ts:app, prints the bound URL, and exits 0 on SIGTERM', async () => {
    const run = cli(['serve', 'examples/demo.ts:app', '--port', '0'], { TSGI_DEMO_PASSWORD: undefined });
    const url = await servingUrl(run);
    // The demo prints its generated admin password while loading, before the server listens.
    const printed = /^Admin: user admin, password (\S+)\nServing on http:\/\/127\.0\.0\.1:\d+ \(HTTP\/1\.1, 1 process, Node v\d+\.\d+\.\d+, reload off\)\n$/.exec(
      run.out.stdout,
    );
    expect(printed, run.out.stdout).not.toBeNull();
    expect(Number(new URL(url).port)).toBeGreaterThan(0);
    const authorization = `Basic ${Buffer.from(`admin:${printed![1]}`).toString('base64')}`;
    expect((await get(`${url}/admin/`, { Authorization: authorization })).status).toBe(200);
    expect((await get(`${url}/admin/`)).status).toBe(401);

    const time = await get(`${url}/time/app/`);
    expect(time.status).toBe(200);
    expect(Math.abs(Date.parse(time.body) - Date.now())).toBeLessThan(60_000);
    expect((await get(`${url}/time/app/`, { Host: 'localhost' })).status).toBe(404);
    const env = await get(`${url}/env/`);
    expect(env.status).toBe(200);
    expect(env.body.split('\n')).toContain('SCRIPT_NAME: /env');
    expect(env.body.split('\n')).toContain('tsgi.multiprocess: false');

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe('');
    // The access log, on stdout: one combined-format line per request.
    expect(run.out.stdout).toMatch(/^127\.0\.0\.1 - admin \[[^\]]+\] "GET \/admin\/ HTTP\/1\.1" 200 \d+ "-" "-"$/m);
    expect(run.out.stdout).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/env\/ HTTP\/1\.1" 200 \d+ "-" "-"$/m);
  });

  it('lets a request in flight finish after SIGTERM', async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0']);
    const url = await servingUrl(run);
    const reply = get(`${url}/slow`);
    const deadline = Date.now() + 10_000;
    while (!run.out.stdout.includes('received /slow\n')) {
      if (Date.now() > deadline) throw new Error('the request never arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    run.child.kill('SIGTERM');
    expect(await reply).toEqual({ status: 200, body: 'slow done' });
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('keeps serving when the reader of its log goes away (a log shipper restarted, `| head`)', async () => {
    for (const processes of [[], ['--workers', '1']]) {
      const run = cli(['serve', 'examples/demo.ts:app', '--port', '0', ...processes]);
      const url = await servingUrl(run);
      // Writing the access log now fails with EPIPE (in the worker and the primary alike).
      run.child.stdout!.destroy();
      run.child.stderr!.destroy();
      for (let i = 0; i < 5; i++) expect((await get(`${url}/`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await get(`${url}/`)).status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('on SIGTERM keeps an idle keep-alive connection until it expires: a request a proxy sends on it is answered, Connection: close', async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', '--timeout-keep-alive', '30']);
    const url = await servingUrl(run);
    const conn = await keptConnection(url);
    expect(await conn.send('/')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: keep-alive\r\n/);
    run.child.kill('SIGTERM');
    await waitFor(() => run.out.stdout.includes('Stopping on SIGTERM'), () => run.out.stdout);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(conn.isClosed()).toBe(false);
    const late = await conn.send('/', 'POST');
    expect(late).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n/);
    await conn.closed;
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('on SIGINT (Ctrl-C) closes idle keep-alive connections at once', async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', '--timeout-keep-alive', '30']);
    const url = await servingUrl(run);
    const conn = await keptConnection(url);
    await conn.send('/');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    await conn.closed;
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('cuts the requests in flight at a second signal, and says so', async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0']);
    const url = await servingUrl(run);
    // A request no timer ends before the second signal (300 ms could run out on a loaded
    // machine), and that signal sent once the first one was taken: SIGINT and SIGTERM both
    // pending are delivered SIGINT first, which then reads as the first signal.
    const reply = get(`${url}/slow?ms=60000`).then(
      (res) => `answered ${res.status}`,
      () => 'cut',
    );
    const deadline = Date.now() + 10_000;
    while (!run.out.stdout.includes('received /slow\n')) {
      if (Date.now() > deadline) throw new Error('the request never arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    run.child.kill('SIGTERM');
    await waitFor(() => run.out.stdout.includes('Stopping on SIGTERM'), () => run.out.stdout);
    run.child.kill('SIGINT');
    expect(await reply).toBe('cut');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe('tsgi: SIGINT during the graceful shutdown: cutting the requests in flight\n');
  });

  it('exits 0 on SIGINT too', async () => {
    const run = cli(['serve', 'examples/demo.ts:app', '--port', '0']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).status).toBe(200);
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGUSR1 (a logrotate habit) opens no debugger for every local user: ignored and logged by one process or a primary, ignored silently by a worker', async () => {
    const ignored = 'tsgi: SIGUSR1 ignored: Node would open its debugger on 127.0.0.1:9229, where any local user can run code as this one (start with --inspect to debug)\n';
    for (const workers of [[], ['--workers', '1']]) {
      const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', ...workers]);
      const url = await servingUrl(run);
      const { pid } = JSON.parse((await get(`${url}/`)).body) as { pid: number };
      // A worker is started with --disable-sigusr1: Node holds the signal back, no line.
      const targets = workers.length === 0 ? [run.child.pid!] : [pid, run.child.pid!];
      for (const target of targets) process.kill(target, 'SIGUSR1');
      await waitFor(
        () => run.out.stderr.includes(ignored),
        () => `no line for SIGUSR1: ${run.out.stderr}`,
        5_000,
      );
      expect((await get(`${url}/`)).status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      // Node's own line would be `Debugger listening on ws://127.0.0.1:9229/…`.
      expect(run.out.stderr).toBe(ignored);
    }
  });

  it('SIGUSR1 reaching a worker or a --reload child before any of tsgi\'s code runs opens no debugger either', async () => {
    // A preload that runs first in each child (a node:cluster worker, the --reload child) and
    // sends it SIGUSR1 there, before tsgi installs its handler; a debugger it opened would
    // listen on a port of its own (debugPort 0), never 9229.
    const early = "--import=data:text/javascript,if(process.env.NODE_UNIQUE_ID||process.env.TSGI_RELOAD_CHILD){process.debugPort=0;process.kill(process.pid,'SIGUSR1')}";
    for (const extra of [['--workers', '1'], ['--reload']]) {
      const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', ...extra], { NODE_OPTIONS: early });
      const url = await servingUrl(run);
      expect((await get(`${url}/`)).status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.out.stderr, extra.join(' ')).not.toMatch(/Debugger listening/);
    }
  });

  it('stops at once on SIGINT or SIGTERM while the module is still loading', { timeout: 30_000 }, async () => {
    for (const [signal, extra] of [['SIGINT', []], ['SIGTERM', []], ['SIGTERM', ['--workers', '2']]] as const) {
      const run = cli(['serve', join(fixtures, 'hangs.mjs'), '--port', '0', ...extra]);
      const deadline = Date.now() + 10_000;
      while (!run.out.stdout.includes('loading\n')) {
        if (Date.now() > deadline) throw new Error(`the module never started loading: ${run.out.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      run.child.kill(signal);
      const timeout = new Promise((resolve) => setTimeout(resolve, 5_000, 'still running 5 s after the signal'));
      expect(await Promise.race([run.exited, timeout]), `${signal} ${extra.join(' ')}`).toEqual({ code: 0, signal: null });
      expect(run.out.stdout).not.toMatch(/Serving on/);
    }
  });

  it('a SIGHUP while tsgi itself still starts (before its handlers exist) does not end the process: it serves, and stops 0 on SIGTERM', { timeout: 60_000 }, async () => {
    // The --env-file is a FIFO, so the test knows when tsgi reads it (its second opening: Node
    // opens it first, before tsgi's code runs): tsgi's own modules are loaded, not serve()'s, and
    // no SIGHUP handler of the command is in place yet. Node's default action would end it (129).
    for (const extra of [[], ['--workers', '1']]) {
      const fifo = join(fixtures, `env-${extra.length}.fifo`);
      execFileSync('mkfifo', [fifo]);
      const run = cli(['serve', `${join(fixtures, 'pid.mjs')}:app`, '--port', '0', '--env-file', fifo, ...extra]);
      const feeder = hangUpWhileStarting(fifo, run.child);
      try {
        const url = await servingUrl(run);
        expect((await get(`${url}/`)).status, extra.join(' ')).toBe(200);
        run.child.kill('SIGTERM');
        expect(await run.exited, extra.join(' ')).toEqual({ code: 0, signal: null });
        // Handled once the command can: one process logs it, as any SIGHUP without TLS.
        if (extra.length === 0) expect(run.out.stderr).toMatch(/^tsgi: SIGHUP ignored: /m);
      } finally {
        await feeder.stop();
      }
    }
  });

  it('--reload: a SIGHUP while tsgi itself still starts stops the supervisor (0) before it starts any app process', { timeout: 30_000 }, async () => {
    // A preload in the supervisor only (the app's process has TSGI_RELOAD_CHILD) that says so
    // on stderr each time it forks.
    const preload = join(fixtures, 'fork-log.mjs');
    writeFileSync(
      preload,
      `import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
if (process.env.TSGI_RELOAD_CHILD === undefined) {
  const fork = childProcess.fork;
  childProcess.fork = (...args) => {
    process.stderr.write('test: forked an app process\\n');
    return fork(...args);
  };
  syncBuiltinESMExports();
}
`,
    );
    const fifo = join(fixtures, 'env-reload.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = cli(['serve', `${join(fixtures, 'pid.mjs')}:app`, '--port', '0', '--reload', '--reload-dir', fixtures, '--env-file', fifo], {
      NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`,
    });
    // The SIGHUP is sent as the supervisor reads the file, so it is there before the supervisor
    // binds the port and installs its own handler, but dispatched by the event loop only after
    // (nothing on that path waits for I/O): the case of a hang-up not held yet.
    const feeder = hangUpWhileStarting(fifo, run.child);
    try {
      const timeout = new Promise((resolve) => setTimeout(resolve, 10_000, 'still running 10 s after the SIGHUP'));
      expect(await Promise.race([run.exited, timeout]), run.out.stdout + run.out.stderr).toEqual({ code: 0, signal: null });
      expect(run.out.stdout + run.out.stderr).toMatch(/Stopping on SIGHUP/);
      expect(run.out.stdout + run.out.stderr).not.toMatch(/test: forked an app process/);
    } finally {
      await feeder.stop();
    }
  });

  it('serves the export `app` when the target has no :export', async () => {
    const run = cli(['serve', 'examples/time-application.ts', '--port', '0']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).status).toBe(200);
  });

  it('serves another named export, and awaits an exported promise', async () => {
    const named = cli(['serve', `${join(fixtures, 'pid.mjs')}:default`, '--port', '0']);
    const promised = cli(['serve', join(fixtures, 'promise.mjs'), '--port', '0']);
    const pid = await get(`${await servingUrl(named)}/`);
    expect(JSON.parse(pid.body)).toEqual({ pid: named.child.pid, multiprocess: false });
    expect((await get(`${await servingUrl(promised)}/`)).body).toBe('from a promise');
  });

  it('takes the port from $PORT when --port is absent, and --port over $PORT', async () => {
    const fromEnv = cli(['serve', 'examples/demo.ts:app'], { PORT: '0' });
    const url = await servingUrl(fromEnv);
    expect(new URL(url).port).not.toBe('8000');
    expect((await get(`${url}/`)).status).toBe(200);

    const fromFlag = cli(['serve', 'examples/demo.ts:app', '--port', '0'], { PORT: 'not-a-port' });
    expect((await get(`${await servingUrl(fromFlag)}/`)).status).toBe(200);
  });

  it('binds --host', async () => {
    const run = cli(['serve', 'examples/demo.ts:app', '--host', 'localhost', '-p', '0']);
    const url = await servingUrl(run);
    expect(url).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
    expect((await get(`${url}/`)).status).toBe(200);
  });
});

describe('tsgi serve errors', () => {
  it('a missing module: one line on stderr, exit 2', async () => {
    const result = await finish(['serve', 'examples/nope.ts:app', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tsgi: cannot find module 'examples\/nope\.ts' \([^\n]*\)\n$/);
    expect(result.stdout).toBe('');
  });

  it('a missing export: one line on stderr naming the exports, exit 2', async () => {
    const result = await finish(['serve', 'examples/demo.ts:nope', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tsgi: module 'examples\/demo\.ts' has no export 'nope' \(its exports: [^\n]*app[^\n]*\)\n$/);
  });

  it('a module named without its extension (uvicorn\'s module:app): the line names the file there is', async () => {
    const result = await finish(['serve', `${join(fixtures, 'pid')}:app`, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tsgi: cannot find module '[^']+pid' \(no file [^)]+pid; there is pid\.mjs: serve '[^']+pid\.mjs:app'\)\n$/);
  });

  it('a missing export when one other export is an app: the line names the spec to serve', async () => {
    writeFileSync(join(fixtures, 'handler.mjs'), "export const handler = (environ, start) => (start('200 OK', []), []);\nexport const PORT = 8000;\n");
    writeFileSync(join(fixtures, 'default.mjs'), "export default (environ, start) => (start('200 OK', []), []);\n");
    const [named, unnamed] = await Promise.all(
      ['handler.mjs', 'default.mjs'].map((file) => finish(['serve', join(fixtures, file), '--port', '0'])),
    );
    expect(named!.code).toBe(2);
    expect(named!.stderr).toMatch(/^tsgi: module '[^']+handler\.mjs' has no export 'app' \(its exports: PORT, handler\): serve it as '[^']+handler\.mjs:handler'\n$/);
    expect(unnamed!.code).toBe(2);
    expect(unnamed!.stderr).toMatch(/^tsgi: module '[^']+default\.mjs' has no export 'app' \(its exports: default\): serve it as '[^']+default\.mjs:default'\n$/);
  });

  it('a missing export: an Express app or a class is not named as the app to serve, a CommonJS app is', async () => {
    // An Express app (a function with handle and listen), a Request subclass: neither serves.
    writeFileSync(join(fixtures, 'express.mjs'), 'const app = (req, res, next) => next();\napp.handle = () => {};\napp.listen = () => {};\nexport default app;\n');
    writeFileSync(join(fixtures, 'klass.mjs'), 'export class AppRequest {}\nexport const routes = 1;\n');
    // module.exports = app: Node names it default (and, from Node 23, 'module.exports' too), one app.
    writeFileSync(join(fixtures, 'common.cjs'), "module.exports = (environ, start) => (start('200 OK', []), []);\n");
    const [express, klass, common] = await Promise.all(
      ['express.mjs', 'klass.mjs', 'common.cjs'].map((file) => finish(['serve', join(fixtures, file), '--port', '0'])),
    );
    expect(express!.code).toBe(2);
    expect(express!.stderr).toMatch(/^tsgi: module '[^']+express\.mjs' has no export 'app' \(its exports: default\)\n$/);
    expect(klass!.code).toBe(2);
    expect(klass!.stderr).toMatch(/^tsgi: module '[^']+klass\.mjs' has no export 'app' \(its exports: AppRequest, routes\)\n$/);
    expect(common!.code).toBe(2);
    // The list is Node's namespace: Node 23 added the 'module.exports' key to a CommonJS module's.
    const commonKeys = Number(process.versions.node.split('.')[0]) >= 23 ? 'default, module\\.exports' : 'default';
    expect(common!.stderr).toMatch(new RegExp(`\\(its exports: ${commonKeys}\\): serve it as '[^']+common\\.cjs:default'\\n$`));
  });

  it('a --host holding a port: told the flags to write, exit 2 (not the serve() options of the API)', async () => {
    const result = await finish(['serve', `${join(fixtures, 'pid.mjs')}:app`, '--host', 'localhost:3000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("tsgi: invalid --host 'localhost:3000': expected an address without its port: --host localhost --port 3000\n");
  });

  it('a --host with white space (HOST=localhost<space> in an env file): the flag to write, exit 2, not a lookup of "localhost " that fails', async () => {
    const pid = `${join(fixtures, 'pid.mjs')}:app`;
    const trailing = await finish(['serve', pid, '--host', 'localhost ']);
    expect([trailing.code, trailing.stderr]).toEqual([2, "tsgi: invalid --host 'localhost ': expected an address without white space: --host localhost\n"]);
    const inside = await finish(['serve', pid, '--host', 'local host']);
    expect([inside.code, inside.stderr]).toEqual([2, "tsgi: invalid --host 'local host': expected an address without white space\n"]);
  });

  it('a --host written with brackets or as a URL (gunicorn\'s --bind [::1]:8000 habit): the flags to write, exit 2, not a lookup that fails', async () => {
    const pid = `${join(fixtures, 'pid.mjs')}:app`;
    const cases = {
      '[::1]:8000': 'an address without its port: --host ::1 --port 8000',
      '[::1]': 'an address without brackets: --host ::1',
      'http://localhost:3000': 'an address, not a URL: --host localhost --port 3000',
      'http://[::1]': 'an address, not a URL: --host ::1',
    };
    const results = await Promise.all(Object.keys(cases).map((host) => finish(['serve', pid, '--host', host])));
    for (const [i, [host, expected]] of Object.entries(cases).entries()) {
      expect(results[i]!.code, host).toBe(2);
      expect(results[i]!.stderr, host).toBe(`tsgi: invalid --host '${host}': expected ${expected}\n`);
    }
  });

  it('an export that is not an app: one line, exit 2', async () => {
    const names = ['app', 'other'];
    const results = await Promise.all(names.map((name) => finish(['serve', `${join(fixtures, 'not-app.mjs')}:${name}`, '--port', '0'])));
    for (const [i, result] of results.entries()) {
      const name = names[i]!;
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toMatch(new RegExp(`^tsgi: export '${name}' of '[^']+' is not an app[^\\n]*\\n$`));
    }
  });

  it('a RouteMap exported instead of its app: one line saying to serve routes.app(handlers), exit 2', async () => {
    const result = await finish(['serve', 'test/fixtures/route-map.ts:routes', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "tsgi: export 'routes' of 'test/fixtures/route-map.ts' is not an app (a function or an object with respond()): got a RouteMap, the rules alone: serve the app it builds, export const app = routes.app({ ...handlers })\n",
    );
  });

  it('an Express or Koa app, or an Express router: one line naming the framework and toNodeHandler, exit 2, not a 500 per request', async () => {
    const run = 'run it with its own listen()';
    const cases = [
      ['app', 'an Express or Connect app', run],
      ['koa', 'a Koa app', run],
      // A router has no listen() of its own: served, it answered 500 to every request.
      ['router', 'an Express router', 'mount it in an Express app (app.use(router)) and run that with its listen()'],
    ] as const;
    const results = await Promise.all(cases.map(([name]) => finish(['serve', `test/fixtures/node-frameworks.ts:${name}`, '--port', '0'])));
    for (const [i, result] of results.entries()) {
      const [name, kind, advice] = cases[i]!;
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toBe(
        `tsgi: export '${name}' of 'test/fixtures/node-frameworks.ts' is ${kind}, not a tsgi app: ${advice}, and mount tsgi apps inside it with toNodeHandler (docs/deployment.md)\n`,
      );
    }
  });

  it('a file Node cannot import as a module (app.py, a .json): one line, exit 2, no stack', async () => {
    writeFileSync(join(fixtures, 'app.py'), 'app = None\n');
    writeFileSync(join(fixtures, 'settings.json'), '{}\n');
    for (const name of ['app.py', 'settings.json']) {
      const result = await finish(['serve', join(fixtures, name), '--port', '0']);
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toBe(
        `tsgi: cannot load '${join(fixtures, name)}' as a module: serve a .js, .mjs, .cjs, .ts, .mts or .cts file\n`,
      );
    }
    // The same error from a module the app imports is the app's own: its stack, exit 1.
    writeFileSync(join(fixtures, 'imports-py.mjs'), "import './app.py';\nexport const app = () => [];\n");
    const nested = await finish(['serve', join(fixtures, 'imports-py.mjs'), '--port', '0']);
    expect(nested.code).toBe(1);
    expect(nested.stderr).toMatch(/^tsgi: error while loading '[^']+imports-py\.mjs':\n[^\n]*ERR_UNKNOWN_FILE_EXTENSION[^\n]*\n\s+at /);
  });

  it('an exported promise that can never settle (nothing it awaits is pending): one line, exit 1, not Node\'s exit 13', async () => {
    const file = join(fixtures, 'stalled.mjs');
    writeFileSync(file, 'export const app = new Promise(() => {});\n');
    const run = cli(['serve', file, '--port', '0']);
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.out.stderr).toMatch(/^tsgi: the export 'app' of '.*stalled\.mjs' is a promise that can never settle: nothing it awaits is pending\n$/);
  });

  it('a module that throws while loading: its error on stderr, exit 1', async () => {
    const result = await finish(['serve', join(fixtures, 'throws.mjs'), '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tsgi: error while loading '[^']+throws\.mjs':\n/);
    expect(result.stderr).toContain('broken on purpose');
  });

  it('a type imported without `import type` (Node erases types, not their imports): the hint says so, exit 1', async () => {
    writeFileSync(join(fixtures, 'shapes.ts'), 'export interface Greeting { text: string }\nexport const version = 1;\n');
    writeFileSync(
      join(fixtures, 'typed.ts'),
      "import { Greeting } from './shapes.ts';\nconst g: Greeting = { text: 'hi' };\nexport const app = () => g;\n",
    );
    const result = await finish(['serve', join(fixtures, 'typed.ts'), '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tsgi: error while loading '[^']+typed\.ts' \(if 'Greeting' is a type, import it with `import type \{ Greeting \}`: Node erases types, not the imports of them\):\n/,
    );
    // Node's own report follows, with the file and line of the import.
    expect(result.stderr).toContain("does not provide an export named 'Greeting'");
    expect(result.stderr).toMatch(/typed\.ts:1\n/);
    // A missing export of a .js module is not about types: no hint.
    writeFileSync(join(fixtures, 'plain.mjs'), 'export const version = 1;\n');
    writeFileSync(join(fixtures, 'uses-plain.ts'), "import { missing } from './plain.mjs';\nexport const app = () => missing;\n");
    const plain = await finish(['serve', join(fixtures, 'uses-plain.ts'), '--port', '0']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^tsgi: error while loading '[^']+uses-plain\.ts':\n/);
  });

  it('an address in use: exit 1 with the reason', async () => {
    const first = cli(['serve', 'examples/demo.ts:app', '--port', '0']);
    const port = new URL(await servingUrl(first)).port;
    const result = await finish(['serve', 'examples/demo.ts:app', '--port', port]);
    expect(result.code).toBe(1);
    const inUse = `tsgi: cannot listen on 127.0.0.1:${port}: address already in use (another process listens there: stop it, or choose another --port)\n`;
    expect(result.stderr).toBe(inUse);
    // The same line from a --workers worker, whose Node error read `bind EADDRINUSE 127.0.0.1:…`.
    const workers = await finish(['serve', 'examples/demo.ts:app', '--port', port, '--workers', '2']);
    expect(workers.code).toBe(1);
    expect(workers.stderr).toBe(inUse);
  });

  it('a --host that does not resolve, a Unix socket in use: one line naming the flag, exit 1', { timeout: 60_000 }, async () => {
    const host = await finish(['serve', 'examples/demo.ts:app', '--host', 'tsgi-test.invalid']);
    expect(host.code).toBe(1);
    expect(host.stderr).toMatch(/^tsgi: cannot resolve --host 'tsgi-test\.invalid' \(\w+\)\n$/);
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-uds-'));
    try {
      const path = join(dir, 'app.sock');
      const first = cli(['serve', 'examples/demo.ts:app', '--uds', path]);
      await servingUrl(first);
      const result = await finish(['serve', 'examples/demo.ts:app', '--uds', path]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `tsgi: cannot listen on ${path}: address already in use (another process listens on this socket: stop it, or choose another --uds)\n`,
      );
      // Node says EACCES (permission denied) for a socket in a folder that does not exist.
      const missing = join(dir, 'missing', 'app.sock');
      const noFolder = `tsgi: cannot listen on ${missing}: no such folder (create the socket's folder first, as systemd's RuntimeDirectory does)\n`;
      for (const workers of [[], ['--workers', '2']]) {
        const absent = await finish(['serve', 'examples/demo.ts:app', '--uds', missing, ...workers]);
        expect(absent.code).toBe(1);
        expect(absent.stderr).toBe(noFolder);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad arguments: one line on stderr, exit 2', async () => {
    const cases = [
      [],
      ['frobnicate'],
      ['--nope'],
      ['serve'],
      ['serve', 'a.ts', 'b.ts'],
      ['serve', 'examples/demo.ts', '--port', 'abc'],
      ['serve', 'examples/demo.ts', '--port', '70000'],
      ['serve', 'examples/demo.ts', '--port'],
      ['serve', 'examples/demo.ts', '--bogus'],
      ['serve', 'examples/demo.ts', '--workers', '0'],
      ['serve', 'examples/demo.ts', '--host', ''],
      ['serve', ':app'],
    ];
    const results = await Promise.all(cases.map((args) => finish(args)));
    results.forEach((result, i) => {
      const label = JSON.stringify(cases[i]);
      expect(result.code, label).toBe(2);
      expect(result.stderr, label).toMatch(/^tsgi: [^\n]+\n$/);
      expect(result.stdout, label).toBe('');
    });
  });

  it('an invalid $PORT without --port: one line, exit 2', async () => {
    const result = await finish(['serve', 'examples/demo.ts'], { PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tsgi: invalid \$PORT 'eighty'/);
  });
});

describe('tsgi --help and --version', () => {
  it('--help prints the usage on stdout, exit 0', async () => {
    for (const result of await Promise.all([['--help'], ['-h'], ['help']].map((args) => finish(args)))) {
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: tsgi <command>/);
      expect(result.stdout).toContain('serve <module>[:<export>]');
    }
  });

  it('serve --help prints the options of serve, exit 0', async () => {
    const result = await finish(['serve', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: tsgi serve /);
    for (const option of ['--host', '--port', '--workers', '$PORT']) expect(result.stdout).toContain(option);
  });

  it('--version prints the package version, exit 0', async () => {
    const result = await finish(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it("keeps Node's compile cache in the temporary folder, and none with NODE_DISABLE_COMPILE_CACHE=1", async () => {
    // Without $NODE_COMPILE_CACHE, Node's default: <os.tmpdir()>/node-compile-cache ($TMPDIR).
    const on = mkdtempSync(join(fixtures, 'tmp-'));
    const off = mkdtempSync(join(fixtures, 'tmp-'));
    expect((await finish(['--version'], { TMPDIR: on, NODE_COMPILE_CACHE: undefined })).code).toBe(0);
    // One folder per Node version, holding a file per module compiled (tsgi's, TypeScript).
    const [version, ...others] = readdirSync(join(on, 'node-compile-cache'));
    expect(others).toEqual([]);
    expect(readdirSync(join(on, 'node-compile-cache', version!)).length).toBeGreaterThan(10);
    const disabled = await finish(['--version'], { TMPDIR: off, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(disabled.code).toBe(0);
    expect(readdirSync(off)).toEqual([]);
  });

  it('keeps no compile cache in a folder of the temporary one that another user can write: one could plant compiled code in it', async () => {
    // A shared /tmp: whoever made node-compile-cache first owns it; world-writable here.
    const tmp = mkdtempSync(join(fixtures, 'tmp-'));
    const shared = join(tmp, 'node-compile-cache');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect((await finish(['--version'], { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined })).code).toBe(0);
    expect(readdirSync(shared)).toEqual([]);
    if (process.getuid?.() === 0) {
      // Owned by another user (nobody), even if only its owner can write it.
      chmodSync(shared, 0o755);
      chownSync(shared, 65534, 65534);
      expect((await finish(['--version'], { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined })).code).toBe(0);
      expect(readdirSync(shared)).toEqual([]);
    }
    // $NODE_COMPILE_CACHE is the operator's choice, taken as it is.
    const chosen = join(tmp, 'chosen');
    expect((await finish(['--version'], { TMPDIR: tmp, NODE_COMPILE_CACHE: chosen })).code).toBe(0);
    expect(readdirSync(chosen)).toHaveLength(1);
  });
});

describe('tsgi serve --workers', () => {
  /** GETs `/` on fresh connections until `count` different worker pids have answered. */
  async function workerPids(url: string, count: number): Promise<Set<number>> {
    const pids = new Set<number>();
    const deadline = Date.now() + 15_000;
    while (pids.size < count) {
      if (Date.now() > deadline) throw new Error(`only saw workers ${[...pids].join(', ')}`);
      const reply = JSON.parse((await get(`${url}/`)).body) as { pid: number; multiprocess: boolean };
      expect(reply.multiprocess).toBe(true);
      pids.add(reply.pid);
    }
    return pids;
  }

  it('--workers 2: both workers answer (tsgi.multiprocess true), SIGTERM stops them all', async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', '--workers', '2']);
    const url = await servingUrl(run);
    expect(run.out.stdout).toMatch(/^Serving on http:\/\/127\.0\.0\.1:\d+ \(HTTP\/1\.1, 2 workers, Node v[\d.]+, reload off\)\n$/);
    const pids = await workerPids(url, 2);
    expect(pids.has(run.child.pid!)).toBe(false);
    for (const pid of pids) expect(alive(pid)).toBe(true);

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    expect(run.out.stdout.match(/Serving on/g)).toHaveLength(1);
  });

  it('the demo runs under workers, sharing $TSGI_DEMO_PASSWORD', async () => {
    const run = cli(['serve', 'examples/demo.ts:app', '--port', '0', '-w', '2'], { TSGI_DEMO_PASSWORD: 'shared secret' });
    const url = await servingUrl(run);
    expect((await get(`${url}/time/app/`)).status).toBe(200);
    const authorization = `Basic ${Buffer.from('admin:shared secret').toString('base64')}`;
    for (let i = 0; i < 4; i++) expect((await get(`${url}/admin/`, { Authorization: authorization })).status).toBe(200);
    expect(run.out.stdout).toContain('Admin: user admin, password from $TSGI_DEMO_PASSWORD\n');
    expect((await get(`${url}/env/`)).body.split('\n')).toContain('tsgi.multiprocess: true');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('replaces a worker that dies', { timeout: 45_000 }, async () => {
    const run = cli(['serve', join(fixtures, 'pid.mjs'), '--port', '0', '--workers', '1']);
    const url = await servingUrl(run);
    const [first] = await workerPids(url, 1);
    await expect(get(`${url}/crash`)).rejects.toThrow();
    let second: number | undefined;
    const deadline = Date.now() + 15_000;
    while (second === undefined) {
      if (Date.now() > deadline) throw new Error(`no new worker; stderr: ${run.out.stderr}`);
      try {
        // Refused while no worker listens; the timeout keeps one stuck connection during the
        // restart from stalling the poll.
        second = (JSON.parse((await get(`${url}/`, {}, 1_000)).body) as { pid: number }).pid;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(second).not.toBe(first);
    expect(alive(first!)).toBe(false);
    expect(run.out.stderr).toMatch(new RegExp(`^tsgi: worker ${first} died \\(exit code 3\\); starting a new one in 0\\.5 s\\n`));

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(alive(second)).toBe(false);
  });

  it('a missing export under workers: the same one line, exit 2', async () => {
    const run = cli(['serve', 'examples/demo.ts:nope', '--port', '0', '--workers', '3']);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.out.stderr).toMatch(/^tsgi: module 'examples\/demo\.ts' has no export 'nope' [^\n]*\n$/);
    // The worker printed the demo's admin line while loading it; the server never started.
    expect(run.out.stdout).not.toContain('Serving on');
  });

  it('a missing module under workers: one line, exit 2, no worker started', async () => {
    const run = cli(['serve', 'examples/nope.ts', '--workers', '2']);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.out.stderr).toMatch(/^tsgi: cannot find module 'examples\/nope\.ts' [^\n]*\n$/);
  });
});
