/**
 * tsgi as a user gets it, on Bun and Deno (docs/deployment.md#bun, #deno): `npm pack` once,
 * `npm install` of the tarball into a fresh project outside the repository (its own
 * package.json and node_modules, bare `'tsgi'` imports, no `tsgi-source` condition), then a
 * small server — `Request.application` under `cors` and `compress`, a multipart form, an event
 * stream, `tsgi/proxy` to an upstream on 127.0.0.1 — run by `bun server.ts` and by the `deno run`
 * command docs/deployment.md gives (its permission flags, read from the page), and asked over a
 * real socket. `deno check` type-checks the Deno server strictly against the shipped types.
 * A CommonJS module `require()`s every entry point under both (the exports' `default` condition).
 * A runtime whose binary is missing from node_modules is skipped, and says so in the test name.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Node 24 first on PATH for npm (and prepack's build), as under `npm run`.
const env = { ...process.env, NO_COLOR: '1', PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };
const BUN = path.join(ROOT, 'node_modules/bun/bin/bun.exe');
const DENO = path.join(ROOT, 'node_modules/deno/deno');
const hasBun = existsSync(BUN);
const hasDeno = existsSync(DENO);

/** The `deno run` flags of the command in docs/deployment.md's Deno section (`deno run … server.ts`). */
function documentedDenoFlags(): string[] {
  const page = readFileSync(path.join(ROOT, 'docs/deployment.md'), 'utf8');
  const section = /^## Deno\n([\s\S]*?)^## /m.exec(page)?.[1] ?? '';
  const command = /^deno run ((?:--\S+ )+)server\.ts\b/m.exec(section);
  if (!command) throw new Error('docs/deployment.md#deno gives no `deno run <flags> server.ts` line');
  return command[1]!.trim().split(/\s+/);
}

/** The consumer's app: what a user writes from the docs, importing the installed package. */
const appSource = (upstream: string) => `import { type App, Request, Response, compose } from 'tsgi';
import { compress, cors, mount } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const main = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/hello':
      return new Response('hello '.repeat(200), { contentType: 'text/plain' });
    case '/form': {
      const files = await req.files();
      const form = await req.form();
      return Response.json({
        fields: Object.fromEntries(form),
        files: files.getAll('file').map((file) => ({ name: file.filename, size: file.size })),
      });
    }
    case '/events':
      return Response.eventStream(
        (async function* () {
          yield 'first';
          await sleep(20);
          yield { event: 'update', id: '2', data: 'two' };
        })(),
        { heartbeat: 0 },
      );
    default:
      return new Response('nothing here', { status: 404 });
  }
});

export const app: App = compose(
  (inner) => cors(inner, { origin: ['http://spa.example'] }),
  compress,
)(mount({ '/up': proxy(${JSON.stringify(upstream)}), '/': main }));
`;

const BUN_SERVER = `import { toFetchHandler } from 'tsgi/fetch';
import { app } from './app.ts';

const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: toFetchHandler(app) });
console.log(\`Serving on \${server.url.origin}\`);
`;

const DENO_SERVER = `import { toFetchHandler } from 'tsgi/fetch';
import { app } from './app.ts';

Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(\`Serving on http://127.0.0.1:\${port}\`) },
  toFetchHandler(app),
);
`;

/**
 * A CommonJS module of the consumer (`.cjs`): `require()` of each entry point, then a request
 * through `toFetchHandler`. Prints `{ entries, text }` as JSON.
 */
const REQUIRE_SCRIPT = `const specs = ['tsgi', 'tsgi/middleware', 'tsgi/http', 'tsgi/forms', 'tsgi/node', 'tsgi/proxy', 'tsgi/routing', 'tsgi/testing', 'tsgi/fetch'];
const entries = specs.map((spec) => {
  try {
    return \`\${spec} \${Object.keys(require(spec)).length > 0}\`;
  } catch (error) {
    return \`\${spec} \${error.code ?? error.message}\`;
  }
});
const served = (async () => {
  const { Request, Response } = require('tsgi');
  const { toFetchHandler } = require('tsgi/fetch');
  const response = await toFetchHandler(Request.application(() => new Response('required')))(new globalThis.Request('http://127.0.0.1/'));
  return response.text();
})();
served.catch((error) => String(error.code ?? error.message)).then((text) => console.log(JSON.stringify({ entries, text })));
`;

/** What {@link REQUIRE_SCRIPT} prints when every entry point loads. */
const REQUIRED = {
  entries: ['tsgi', 'tsgi/middleware', 'tsgi/http', 'tsgi/forms', 'tsgi/node', 'tsgi/proxy', 'tsgi/routing', 'tsgi/testing', 'tsgi/fetch'].map((spec) => `${spec} true`),
  text: 'required',
};

let work = '';
let consumer = '';
let upstream: http.Server;
const children: ChildProcess[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  if (!hasBun && !hasDeno) return;
  work = await mkdtemp(path.join(tmpdir(), 'tsgi-installed-'));
  await run(npm, ['pack', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 16 << 20 });
  const tarball = (await readdir(work)).find((file) => file.endsWith('.tgz'))!;
  consumer = path.join(work, 'consumer');
  await mkdir(consumer);
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(npm, ['install', '--no-audit', '--no-fund', path.join(work, tarball)], { cwd: consumer, env, maxBuffer: 16 << 20 });
  await writeFile(path.join(consumer, 'required.cjs'), REQUIRE_SCRIPT);
  await writeFile(path.join(consumer, 'app.ts'), appSource(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`));
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  upstream?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts `command` in the consumer and resolves with the origin it prints (`Serving on …`). */
async function start(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, { cwd: consumer, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const read = (text: string) => {
      output += text;
      const match = /Serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.setEncoding('utf8').on('data', read);
    child.stderr!.setEncoding('utf8').on('data', read);
    child.once('exit', (code) => reject(new Error(`${path.basename(command)} exited ${code} before serving:\n${output}`)));
  });
}

/** The same requests to each runtime, over 127.0.0.1. */
async function exercise(origin: string): Promise<void> {
  const hello = await fetch(`${origin}/hello`, { headers: { 'accept-encoding': 'gzip', origin: 'http://spa.example' } });
  expect([hello.status, hello.headers.get('content-encoding'), hello.headers.get('access-control-allow-origin')]).toEqual([
    200,
    'gzip',
    'http://spa.example',
  ]);
  expect(hello.headers.get('vary')).toMatch(/Accept-Encoding.*Origin/);
  expect(await hello.text()).toBe('hello '.repeat(200));

  const form = new FormData();
  form.append('a', '1');
  form.append('file', new Blob(['x'.repeat(1000)], { type: 'text/plain' }), 'a.txt');
  const posted = await fetch(`${origin}/form`, { method: 'POST', body: form });
  expect([posted.status, await posted.json()]).toEqual([200, { fields: { a: '1' }, files: [{ name: 'a.txt', size: 1000 }] }]);

  const events = await fetch(`${origin}/events`);
  expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const stream = await events.text();
  expect(stream).toContain('data: first\n\n');
  expect(stream).toContain('event: update\nid: 2\ndata: two\n\n');

  const proxied = await fetch(`${origin}/up/x?y=1`);
  expect([proxied.status, await proxied.text()]).toEqual([200, 'upstream saw GET /x?y=1']);
}

describe('the packed tarball, installed into a project of its own', () => {
  it.skipIf(!hasBun)(`serves under Bun: bun server.ts${hasBun ? '' : ` (skipped: no Bun binary at ${BUN})`}`, async () => {
    await writeFile(path.join(consumer, 'server.ts'), BUN_SERVER);
    await exercise(await start(BUN, ['server.ts']));
  }, 45_000);

  it.skipIf(!hasDeno)(`serves under Deno, with the flags docs/deployment.md gives${hasDeno ? '' : ` (skipped: no Deno binary at ${DENO})`}`, async () => {
    await writeFile(path.join(consumer, 'server.ts'), DENO_SERVER);
    await exercise(await start(DENO, ['run', ...documentedDenoFlags(), '--no-prompt', 'server.ts']));
  }, 45_000);

  // The exports' `default` condition: a CommonJS module's require() of an ES module (Bun, Deno, Node >= 22.12).
  it.skipIf(!hasBun)(`require()s every entry point from a CommonJS module under Bun${hasBun ? '' : ` (skipped: no Bun binary at ${BUN})`}`, async () => {
    const { stdout } = await run(BUN, ['required.cjs'], { cwd: consumer, env });
    expect(JSON.parse(stdout.trim())).toEqual(REQUIRED);
  });

  it.skipIf(!hasDeno)(`require()s every entry point from a CommonJS module under Deno${hasDeno ? '' : ` (skipped: no Deno binary at ${DENO})`}`, async () => {
    const { stdout } = await run(DENO, ['run', '--no-prompt', 'required.cjs'], { cwd: consumer, env });
    expect(JSON.parse(stdout.trim())).toEqual(REQUIRED);
  });

  it.skipIf(!hasDeno)(`type-checks under deno check, strictly${hasDeno ? '' : ` (skipped: no Deno binary at ${DENO})`}`, async () => {
    await writeFile(path.join(consumer, 'server.ts'), DENO_SERVER);
    await writeFile(path.join(consumer, 'wrong.ts'), `import { Response } from 'tsgi';\nexport const n: number = new Response('x');\n`);
    await run(DENO, ['check', 'server.ts'], { cwd: consumer, env });
    // The shipped types are read, not `any`: a wrong use fails the check.
    const wrong = await run(DENO, ['check', 'wrong.ts'], { cwd: consumer, env }).then(
      () => '',
      (error: { stderr?: string; stdout?: string }) => `${error.stdout}${error.stderr}`,
    );
    expect(wrong).toContain("Type 'Response' is not assignable to type 'number'");
  }, 90_000);
});
