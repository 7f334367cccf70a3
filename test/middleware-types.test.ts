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
import { type App, type MiddlewareHandler, type MiddlewareHooks, Request, defineMiddleware } from 'tsgi';

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

describe('the third overload keeps correct middleware typed as before', () => {
  // Checked by the project's `tsc --noEmit -p .`: each line below compiles, or is an error where marked.
  const inner: App = (_environ, start) => (start('200 OK', []), []);

  it('infers options from a handler annotation or hooks, sync or async, and from a subclass', () => {
    const annotated = defineMiddleware(async (req, app, { name }: { name: string }) => {
      const res = await req.getResponse(app);
      res.headers.set('X-Name', name);
      return res;
    });
    const sync = defineMiddleware((req, app) => (req.method === 'GET' ? app : 'no'));
    const before = defineMiddleware({ before: (req, { tag }: { tag: string }) => (req.path === tag ? undefined : 'other') });
    const after = defineMiddleware({ after(_req, res, { n }: { n: number }) { res.headers.set('X-N', String(n)); } });
    class Shop<T extends string = string> extends Request {
      get shop(): T {
        return 'acme' as T;
      }
    }
    const handler = Shop.middleware((req, app) => (req.shop === 'acme' ? req.getResponse(app) : 'no'));
    const hooks = Shop.middleware({ before(req) { if (req.shop !== 'acme') return 'no'; } });
    const either = (flag: boolean): MiddlewareHandler<{}> | MiddlewareHooks<{}> => (flag ? (req, app) => req.getResponse(app) : { after() {} });
    const union = defineMiddleware(either(true));
    const apps = [annotated(inner, { name: 'a' }), sync(inner), before(inner, { tag: '/' }), after(inner, { n: 1 }), handler(inner), hooks(inner), union(inner)];
    // @ts-expect-error the options inferred from the handler's annotation are required
    annotated(inner);
    // @ts-expect-error and from a before hook's
    before(inner);
    // @ts-expect-error and from an after hook's
    after(inner);
    // @ts-expect-error a hooks mistake is still refused (after answers a Response or nothing)
    defineMiddleware({ after: async () => 'text' });
    // @ts-expect-error a handler answering null is refused
    defineMiddleware(async (req, app) => (req.method === 'POST' ? null : req.getResponse(app)));
    expect(apps.every((app) => typeof app === 'function')).toBe(true);
  });
});
