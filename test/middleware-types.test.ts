/**
 * What strict TypeScript tells a newcomer who gets `defineMiddleware` (and `Request.middleware`)
 * wrong: the compiler's error is about the mistake (a handler that returns nothing, an
 * Express-style `(app) => app`), not about the other overload (`has no properties in common with
 * type 'MiddlewareHooks'`). Checked with the repository's `tsc` on a consumer file.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tsgi-mw-types-'));
  await mkdir(path.join(dir, 'node_modules', '@types'), { recursive: true });
  await symlink(root, path.join(dir, 'node_modules', 'tsgi'));
  await symlink(path.join(root, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'));
  await symlink(path.join(root, 'node_modules', 'undici-types'), path.join(dir, 'node_modules', 'undici-types'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The diagnostics `tsc` gives for `code` (an empty string when it checks). */
async function diagnostics(code: string): Promise<string> {
  await writeFile(path.join(dir, 'mw.ts'), code);
  const compilerOptions = {
    target: 'es2023',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    customConditions: ['tsgi-source'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    types: ['node'],
  };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['mw.ts'] }));
  try {
    await run(tsc, ['-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir });
    return '';
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? String(error);
  }
}

const HEAD = `import { Request, defineMiddleware, type App } from 'tsgi';\n`;

describe('a defineMiddleware mistake under strict TypeScript', () => {
  it('a handler that forgets to return the response is told its result is void', async () => {
    const out = await diagnostics(`${HEAD}export const mw = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  res.headers.set('X-A', '1');
});\n`);
    expect(out).toMatch(/Type 'void' is not assignable to type 'HandlerResult'/);
    expect(out).not.toMatch(/no properties in common/);
  }, 60_000);

  it('an Express-style (app) => app is told the first parameter is the request', async () => {
    const out = await diagnostics(`${HEAD}export const mw = defineMiddleware((app: App) => app);\n`);
    expect(out).toMatch(/Types of parameters 'app' and 'req' are incompatible/);
    expect(out).not.toMatch(/no properties in common/);
  }, 60_000);

  it('Request.middleware is told the same', async () => {
    const out = await diagnostics(`${HEAD}export const mw = Request.middleware(async (req, app) => {
  await req.getResponse(app);
});\n`);
    expect(out).toMatch(/Type 'void' is not assignable to type 'HandlerResult'/);
    expect(out).not.toMatch(/no properties in common/);
  }, 60_000);

  it('a misspelt hook still names the key, and correct middleware of both forms checks', async () => {
    const out = await diagnostics(`${HEAD}export const bad = defineMiddleware({ beforeRequest() {} });\n`);
    expect(out).toMatch(/'beforeRequest' does not exist in type/);
    const good = await diagnostics(`${HEAD}export const a = defineMiddleware<{ name: string }>(async (req, app, { name }) => {
  const res = await req.getResponse(app);
  res.headers.set('X-Name', name);
  return res;
});
export const b = defineMiddleware<{ name: string }>({ before(req) { void req.path; }, after(req, res, { name }) { res.headers.set('X-Name', name); } });
class My extends Request { get who(): string { return 'me'; } }
export const c = My.middleware((req, app) => (req.who === 'me' ? req.getResponse(app) : 'no'));
export const d = My.middleware({ after(req, res) { res.headers.set('X-Who', req.who); } });\n`);
    expect(good).toBe('');
  }, 60_000);
});
