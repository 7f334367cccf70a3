/**
 * The published package works from another folder: `npm pack` builds dist/ (prepack), the
 * tarball installs, the root export resolves with types, and the `tsgi` bin runs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// npm scripts put Node 24 first on PATH; child npm processes inherit it.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };

let work: string;
let consumer: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tsgi-pack-'));
  await run(npm, ['pack', '--pack-destination', work], { cwd: root, env, maxBuffer: 16 << 20 });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  expect(tarball).toBeDefined();
  consumer = path.join(work, 'consumer');
  await run('mkdir', ['-p', consumer]);
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(npm, ['install', '--no-audit', '--no-fund', path.join(work, tarball!)], { cwd: consumer, env, maxBuffer: 16 << 20 });
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('imports from the package root and serves a request', async () => {
    const script = `
      import { Request, Response, serve, HTTPNotFound } from 'tsgi';
      const app = Request.application((req) => req.pathInfo === '/' ? new Response('packed ' + req.method) : new HTTPNotFound());
      const server = await serve(app, { port: 0 });
      const ok = await fetch(server.url + '/');
      const missing = await fetch(server.url + '/nope');
      console.log(ok.status, await ok.text(), missing.status);
      await server.close();
    `;
    await writeFile(path.join(consumer, 'check.mjs'), script);
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: consumer, env });
    expect(stdout.trim()).toBe('200 packed GET 404');
  });

  it('ships type declarations that a consumer can check against', async () => {
    await writeFile(
      path.join(consumer, 'typed.ts'),
      `import { Request, Response, type App } from 'tsgi';\nexport const app: App = Request.application((req: Request) => new Response(req.path));\nexport const n: number = new Response('x').statusCode;\n`,
    );
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['typed.ts'] }),
    );
    const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
    await run(tsc, ['-p', 'tsconfig.json'], { cwd: consumer, env });
  });

  it('installs a working tsgi bin', async () => {
    const bin = path.join(consumer, 'node_modules', '.bin', 'tsgi');
    const { stdout } = await run(bin, ['--help'], { cwd: consumer, env });
    expect(stdout).toMatch(/tsgi serve/);
  });
});
