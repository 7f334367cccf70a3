/**
 * The published package works for a new user: `npm pack` builds dist/ (prepack), the tarball
 * installs into a fresh consumer project, every entry point resolves with its types, the
 * shipped declarations type-check under `strict` without `skipLibCheck` (so no public type may
 * reference a package the consumer lacks), the README's snippets type-check as written and its
 * hello-world, middleware stack and upload answer over a socket, its links resolve, the
 * `tsgi` bin runs, a Worker bundled from it (esbuild, as wrangler) leaves the Node server out, and
 * the entry points a Worker uses check without Node's types.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// npm scripts put Node 24 first on PATH; child npm processes inherit it.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
const README = readFileSync(path.join(root, 'README.md'), 'utf8');
const REPOSITORY = 'https://github.com/tsgi/tsgi';
/** Every entry point of package.json's `exports`, as a consumer names it. */
const ENTRY_SPECIFIERS = ['tsgi', 'tsgi/middleware', 'tsgi/http', 'tsgi/forms', 'tsgi/node', 'tsgi/proxy', 'tsgi/routing', 'tsgi/testing', 'tsgi/fetch'];

/** The README's TypeScript snippets that name a file (```ts hello.ts, ```ts app.cts), in order. */
function readmeSnippets(): Array<{ file: string; code: string }> {
  return [...README.matchAll(/^```ts ([\w.-]+\.c?ts)\n([\s\S]*?)^```$/gm)].map((m) => ({ file: m[1]!, code: m[2]! }));
}

let work: string;
let consumer: string;
let tarball: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tsgi-pack-'));
  await run(npm, ['pack', '--pack-destination', work], { cwd: root, env, maxBuffer: 16 << 20 });
  tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'))!;
  expect(tarball).toBeDefined();
  consumer = path.join(work, 'consumer');
  await mkdir(consumer, { recursive: true });
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(npm, ['install', '--no-audit', '--no-fund', path.join(work, tarball)], { cwd: consumer, env, maxBuffer: 16 << 20 });
  // The consumer's own dev setup: Node's types, as any TypeScript project on Node has them.
  await mkdir(path.join(consumer, 'node_modules', '@types'), { recursive: true });
  await symlink(path.join(root, 'node_modules', '@types', 'node'), path.join(consumer, 'node_modules', '@types', 'node'));
  await symlink(path.join(root, 'node_modules', 'undici-types'), path.join(consumer, 'node_modules', 'undici-types'));
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * The consumer tsconfig the README gives (```json tsconfig.json), so its advice is what is
 * checked: `strict`, no `skipLibCheck`, Node's types only.
 */
function readmeTsconfig(): { compilerOptions: Record<string, unknown> } {
  const block = /^```json tsconfig\.json\n([\s\S]*?)^```$/m.exec(README);
  if (!block) throw new Error('the README gives no ```json tsconfig.json block');
  const config = JSON.parse(block[1]!) as { compilerOptions: Record<string, unknown> };
  expect(config.compilerOptions).toMatchObject({ strict: true, types: ['node'] });
  expect(config.compilerOptions).not.toHaveProperty('skipLibCheck');
  return config;
}

async function typeCheck(files: string[], compilerOptions: Record<string, unknown> = {}): Promise<void> {
  const config = readmeTsconfig();
  await writeFile(path.join(consumer, 'tsconfig.json'), JSON.stringify({ ...config, compilerOptions: { ...config.compilerOptions, ...compilerOptions }, files }));
  try {
    await run(tsc, ['-p', 'tsconfig.json'], { cwd: consumer, env });
  } catch (error) {
    throw new Error(`tsc failed:\n${(error as { stdout?: string }).stdout ?? error}`);
  }
}

describe('npm pack', () => {
  it('makes the tarball the README tells to install', () => {
    expect(README).toContain(`npm pack                                   # builds dist/, writes ${tarball}`);
    expect(README).toContain(`npm install ../tsgi/${tarball}`);
  });

  it('imports from the package root and serves a request', async () => {
    const script = `
      import { Request, Response, serve, HTTPNotFound } from 'tsgi';
      const app = Request.application((req) => req.pathInfo === '/' ? new Response('packed ' + req.method) : new HTTPNotFound());
      const server = await serve(app, { port: 0, host: '127.0.0.1' });
      const ok = await fetch(server.url + '/');
      const missing = await fetch(server.url + '/nope');
      console.log(ok.status, await ok.text(), missing.status);
      await server.close();
    `;
    await writeFile(path.join(consumer, 'check.mjs'), script);
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: consumer, env });
    expect(stdout.trim()).toBe('200 packed GET 404');
  });

  it('resolves every entry point of package.json exports from the tarball', async () => {
    const script = `
      for (const spec of ${JSON.stringify(ENTRY_SPECIFIERS)}) {
        const module = await import(spec);
        console.log(spec, Object.keys(module).length > 0);
      }
    `;
    await writeFile(path.join(consumer, 'entries.mjs'), script);
    const { stdout } = await run(process.execPath, ['entries.mjs'], { cwd: consumer, env });
    expect(stdout.trim().split('\n')).toEqual(ENTRY_SPECIFIERS.map((spec) => `${spec} true`));
  });

  it('lets a CommonJS module require() every entry point (the exports\' default condition)', async () => {
    const script = `
      for (const spec of ${JSON.stringify(ENTRY_SPECIFIERS)}) {
        let loaded;
        try {
          loaded = Object.keys(require(spec)).length > 0;
        } catch (error) {
          loaded = error.code ?? error.message;
        }
        console.log(spec, loaded);
      }
    `;
    await writeFile(path.join(consumer, 'entries.cjs'), script);
    const { stdout } = await run(process.execPath, ['entries.cjs'], { cwd: consumer, env });
    expect(stdout.trim().split('\n')).toEqual(ENTRY_SPECIFIERS.map((spec) => `${spec} true`));
  });

  it('ships declarations that check strictly, without skipLibCheck, for every entry point', async () => {
    await writeFile(
      path.join(consumer, 'typed.ts'),
      [
        `import { Request, Response, HTTPNotFound, type App, type Middleware } from 'tsgi';`,
        `import { accessLog, errors, compress, AuthTickets } from 'tsgi/middleware';`,
        `import { Accept, parseEtag } from 'tsgi/http';`,
        `import { FileUpload, encodeMultipart } from 'tsgi/forms';`,
        `import { toNodeHandler } from 'tsgi/node';`,
        `import { proxy, rewriteHtml, rewriteLocation, type HtmlElement, type ProxyApp } from 'tsgi/proxy';`,
        `import { RouteMap } from 'tsgi/routing';`,
        `import { TestClient, type TestResponse } from 'tsgi/testing';`,
        `export const app: App = Request.application((req: Request) => new Response(req.path));`,
        `export const n: number = new Response('x').statusCode;`,
        `export const code: 404 = new HTTPNotFound().code;`,
        `export const layers: Middleware[] = [accessLog, errors, compress];`,
        `export const tickets = new AuthTickets({ secret: 'x'.repeat(32) });`,
        `export const best: string | null = new Accept('text/html').bestMatch(['text/html']);`,
        `export const tag = parseEtag('"a"');`,
        `export const isFile = (x: unknown): boolean => x instanceof FileUpload;`,
        `export const body = encodeMultipart({ a: '1' });`,
        `export const handler = toNodeHandler(app);`,
        `export const upstream: ProxyApp = proxy('http://127.0.0.1:9', { headersTimeout: 1000, requestHeaders: (h) => h.delete('cookie') });`,
        `export const themed: App = rewriteLocation(rewriteHtml(upstream, { elements: { body: (el: HtmlElement) => el.prepend('x') } }), { upstream: upstream.upstream });`,
        `const routes = new RouteMap({ item: '/items/<int:id>' });`,
        `export const routed: App = routes.app({ item: (_req, { id }) => new Response(String(id + 1)) });`,
        `export const page: Promise<TestResponse> = new TestClient(routed).get(routes.build('item', { id: 1 }));`,
        `export const field: Promise<string | null> = page.then((res) => res.form().get('q'));`,
        '',
      ].join('\n'),
    );
    await typeCheck(['typed.ts']);
  });

  it('takes an option given as undefined under exactOptionalPropertyTypes, from every entry point', async () => {
    // A consumer forwarding its own optional settings: each may be undefined, and means the default.
    await writeFile(
      path.join(consumer, 'exact.ts'),
      [
        `import { Request, Response, HTTPNotFound, serve, type App } from 'tsgi';`,
        `import { accessLog, errors, secureHeaders } from 'tsgi/middleware';`,
        `import { serializeSetCookie, statEtag } from 'tsgi/http';`,
        `import { parseForm } from 'tsgi/forms';`,
        `import { toNodeHandler } from 'tsgi/node';`,
        `import { proxy, rewriteHtml } from 'tsgi/proxy';`,
        `import { RouteMap } from 'tsgi/routing';`,
        `import { TestClient } from 'tsgi/testing';`,
        `import { toFetchHandler, fromFetchHandler } from 'tsgi/fetch';`,
        `declare const maybe: { n?: number; s?: string; b?: boolean; log?: { write(line: string): unknown } };`,
        `const res = new Response('x', { status: maybe.n, contentType: maybe.s, headers: undefined });`,
        `const req = Request.blank('/', { method: maybe.s, headers: undefined });`,
        `const missing = new HTTPNotFound(maybe.s, { contentType: maybe.s, cause: undefined });`,
        `export const app: App = Request.application(() => res);`,
        `export const server = serve(app, { port: maybe.n, host: maybe.s, log: maybe.log });`,
        `export const stack: App = secureHeaders(errors(accessLog(app, { log: maybe.log, format: undefined }), { log: maybe.log, debug: maybe.b }), { contentSecurityPolicy: undefined });`,
        `export const cookie: string = serializeSetCookie('a', 'b', { domain: maybe.s, maxAge: maybe.n, secure: maybe.b });`,
        `export const tag: string = statEtag({ size: 1, mtimeMs: 0 }, { weak: maybe.b });`,
        `export const form = parseForm(req.environ['tsgi.input'], 'text/plain', { maxFields: maybe.n, tmpDir: maybe.s });`,
        `export const handler = toNodeHandler(app, { serverName: maybe.s });`,
        `export const upstream: App = rewriteHtml(proxy('http://127.0.0.1:9', { headersTimeout: maybe.n, preserveHost: maybe.b }), { upstream: undefined });`,
        `export const routes = new RouteMap({ item: { path: '/items/<int:id>', methods: undefined } }, { strictSlashes: maybe.b });`,
        `export const page = new TestClient(app, { lint: maybe.b }).get('/', { headers: undefined, status: maybe.n });`,
        `export const fetchHandler = toFetchHandler(fromFetchHandler(() => new globalThis.Response('x'), { stripPrefix: maybe.b }), { scriptName: maybe.s });`,
        `export const code: 404 = missing.code;`,
        // The request's signal passed on to fetch, whose RequestInit takes `AbortSignal | null`.
        `export const relayed = Request.application((req) => fetch('http://127.0.0.1:9', { signal: req.signal }).then(() => res));`,
        '',
      ].join('\n'),
    );
    // And every exported options, init or hooks type: each optional key takes an explicit undefined.
    const loose = [
      'type Loose<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? ({ [P in K]: undefined } extends Pick<T, K> ? never : K) : never }[keyof T];',
      'type Exact<T> = [Loose<T>] extends [never] ? true : Loose<T>;',
    ];
    const typeArguments: Record<string, string> = { BearerAuthOptions: '<unknown>', RouteMapOptions: '<{}>', MiddlewareHooks: '<{}>' };
    // An `…Init` that is a value, not an options object: `Date | number | string`.
    const values = new Set(['HttpDateInit']);
    for (const specifier of ENTRY_SPECIFIERS) {
      const list = readFileSync(path.join(root, 'test', 'exports', `${specifier.replace('/', '-')}.txt`), 'utf8');
      for (const [, name] of list.matchAll(/^type (\w+(?:Options|Init|Hooks|Transformer|Spec|Context))$/gm)) {
        if (values.has(name!)) continue;
        const alias = `${specifier.replace('/', '_')}_${name}`;
        loose.push(`import type { ${name} as ${alias} } from '${specifier}';`, `export const is_${alias}: Exact<${alias}${typeArguments[name!] ?? ''}> = true;`);
      }
    }
    expect(loose.length).toBeGreaterThan(100);
    await writeFile(path.join(consumer, 'exact-all.ts'), `${loose.join('\n')}\n`);
    await typeCheck(['exact.ts', 'exact-all.ts'], { exactOptionalPropertyTypes: true });
  });

  it('resolves the types of every entry point under moduleResolution node16, nodenext and bundler, and for CommonJS under nodenext', async () => {
    const names = ENTRY_SPECIFIERS.map((spec, i) => ({ spec, name: `entry${i}` }));
    const imports = names.map(({ spec, name }) => `import * as ${name} from '${spec}';`).join('\n');
    const uses = `export const entries: object[] = [${names.map((n) => n.name).join(', ')}];\nexport const app = entry0.Request.application(() => new entry0.Response('x'));\n`;
    await writeFile(path.join(consumer, 'resolution.ts'), `${imports}\n${uses}`);
    // A CommonJS module (require(esm), Node 22.12+): TypeScript allows it under nodenext (and node20), not node16.
    await writeFile(path.join(consumer, 'resolution.cts'), `${imports}\n${uses}`);
    const settings: Array<[string, Record<string, unknown>]> = [
      ['resolution.ts', { module: 'node16', moduleResolution: 'node16' }],
      ['resolution.ts', { module: 'nodenext', moduleResolution: 'nodenext' }],
      ['resolution.ts', { module: 'esnext', moduleResolution: 'bundler', allowImportingTsExtensions: false }],
      ['resolution.ts', { module: 'preserve', moduleResolution: 'bundler', allowImportingTsExtensions: false }],
      ['resolution.cts', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ];
    for (const [file, options] of settings) await typeCheck([file], options);
  }, 60_000);

  it('bundles a Worker without the Node server: a bundler keeps only the code the app uses (sideEffects: false)', async () => {
    // A Worker importing Request and Response from the root, next to `serve`: esbuild (as wrangler
    // runs it) must leave out the Node adapter and the node:http, node:net, … it imports.
    await writeFile(
      path.join(consumer, 'worker.ts'),
      [
        `import { Request, Response } from 'tsgi';`,
        `import { toFetchHandler } from 'tsgi/fetch';`,
        `import { RouteMap } from 'tsgi/routing';`,
        `const routes = new RouteMap({ item: '/items/<int:id>' });`,
        `export default { fetch: toFetchHandler(routes.app({ item: (_req: Request, { id }) => new Response(String(id + 1)) })) };`,
        '',
      ].join('\n'),
    );
    const result = await build({
      entryPoints: ['worker.ts'],
      absWorkingDir: consumer,
      outfile: 'worker.bundle.mjs',
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      external: ['node:*', ...builtinModules],
      // busboy's require('stream') in an ES module, for the run below on Node (wrangler maps it itself).
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      metafile: true,
      logLevel: 'silent',
    });
    const imports = [...new Set(Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path)))];
    expect(imports.filter((name) => /^node:(http|https|http2|net|tls|async_hooks|cluster)$/.test(name))).toEqual([]);
    const script = `
      import worker from './worker.bundle.mjs';
      const res = await worker.fetch(new Request('http://worker.test/items/41'));
      console.log(res.status, await res.text());
    `;
    await writeFile(path.join(consumer, 'worker-run.mjs'), script);
    const { stdout } = await run(process.execPath, ['worker-run.mjs'], { cwd: consumer, env });
    expect(stdout.trim()).toBe('200 42');
  }, 60_000);

  it("type-checks a Worker's entry points without Node's types; tsgi names them (docs/deployment.md, Workers)", async () => {
    // A Worker project: web platform globals, no `types` (so @types/node, installed here, is not
    // loaded unless a declaration asks for it), strict, no skipLibCheck.
    // tsgi/proxy is left out: built on undici, it runs on Node only, and undici's types load Node's.
    const nodeFree = ENTRY_SPECIFIERS.filter((spec) => !['tsgi', 'tsgi/node', 'tsgi/proxy'].includes(spec));
    const compilerOptions = {
      target: 'es2023',
      lib: ['es2023', 'webworker', 'esnext.disposable'],
      module: 'esnext',
      moduleResolution: 'bundler',
      types: [],
      strict: true,
      noEmit: true,
      verbatimModuleSyntax: true,
    };
    const check = async (file: string, code: string, options: Record<string, unknown> = {}) => {
      await writeFile(path.join(consumer, file), code);
      await writeFile(path.join(consumer, 'tsconfig.worker.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, ...options }, files: [file] }));
      return run(tsc, ['-p', 'tsconfig.worker.json', '--listFiles'], { cwd: consumer, env }).then(
        ({ stdout }) => ({ ok: true, stdout }),
        (error: { stdout?: string }) => ({ ok: false, stdout: String(error.stdout) }),
      );
    };
    const worker = await check(
      'worker-types.ts',
      [
        ...nodeFree.map((spec, i) => `import * as entry${i} from '${spec}';`),
        `export const entries: object[] = [${nodeFree.map((_, i) => `entry${i}`).join(', ')}];`,
        `const app: Parameters<typeof entry${nodeFree.indexOf('tsgi/fetch')}.toFetchHandler>[0] = (_environ, start) => { start('200 OK', []); return [new TextEncoder().encode('ok')]; };`,
        `export default { fetch: entry${nodeFree.indexOf('tsgi/fetch')}.toFetchHandler(app) };`,
        '',
      ].join('\n'),
    );
    expect(worker.stdout).not.toMatch(/error TS/);
    expect(worker.stdout).not.toMatch(/@types\/node|undici-types/);
    expect(worker.ok).toBe(true);
    const root = await check('worker-root.ts', `import { Response } from 'tsgi';\nexport const res = new Response('x');\n`);
    expect(root.ok).toBe(false);
    // TypeScript 7's words (5.x: TS2307 `Cannot find module 'node:http'`).
    expect(root.stdout).toContain("error TS2591: Cannot find name 'node:http'. Do you need to install type definitions for node?");
    // The strict setting the page gives for it: Node's types next to the web worker globals.
    const withNode = await check('worker-root.ts', `import { Response } from 'tsgi';\nexport const res = new Response('x');\n`, { types: ['node'], lib: ['es2023', 'webworker'] });
    expect(withNode.stdout).not.toMatch(/error TS/);
    expect(withNode.ok).toBe(true);
  }, 60_000);

  it('lets a library infer the type of every public member of an exported class or interface (declaration emit, no TS2883)', async () => {
    // A consumer library with `declaration: true` that re-exports `(res: Response) => res.contentDisposition`
    // must be able to write the inferred type out: every interface it names has to be reachable by
    // an import of an entry point, or tsc fails with TS2883 ("cannot be named without a reference").
    // The members are read from the shipped declarations (mixin bases' members included).
    const dist = path.join(consumer, 'node_modules', 'tsgi', 'dist');
    const members = new Map<string, Set<string>>();
    const bases = new Map<string, string[]>();
    const generic = new Set<string>();
    for (const file of (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.d.ts'))) {
      const text = readFileSync(path.join(dist, file), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
      for (const [, name, head, body] of text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|interface) (\w+)([^{]*)\{\n([\s\S]*?)^\}/gm)) {
        if (head!.startsWith('<')) generic.add(name!);
        const extended = /extends ([\w, ]+?)(?:<|\s*$|\s+implements)/.exec(head!);
        if (extended) bases.set(name!, extended[1]!.split(',').map((b) => b.trim()));
        const own = members.get(name!) ?? new Set<string>();
        for (const line of body!.split('\n')) {
          const member = /^ {4}(?!static |private |protected |#)(?:readonly )?(?:get |set )?(\w+)\??[(:<]/.exec(line);
          if (member && member[1] !== 'constructor') own.add(member[1]!);
        }
        members.set(name!, own);
      }
    }
    const allMembers = (name: string, seen = new Set<string>()): string[] => {
      if (seen.has(name)) return [];
      seen.add(name);
      return [...(members.get(name) ?? []), ...(bases.get(name) ?? []).flatMap((base) => allMembers(base, seen))];
    };
    const lines: string[] = [];
    ENTRY_SPECIFIERS.forEach((specifier, i) => {
      lines.push(`import * as entry${i} from '${specifier}';`);
      const list = readFileSync(path.join(root, 'test', 'exports', `${specifier.replace('/', '-')}.txt`), 'utf8');
      for (const [, name] of list.matchAll(/^(?:type|value) (\w+)$/gm)) {
        if (!members.has(name!) || generic.has(name!)) continue;
        for (const member of new Set(allMembers(name!))) lines.push(`export const m${lines.length} = (x: entry${i}.${name}) => x.${member};`);
      }
    });
    expect(lines.length).toBeGreaterThan(1000);
    await writeFile(path.join(consumer, 'inferred.ts'), `${lines.join('\n')}\n`);
    await typeCheck(['inferred.ts'], { declaration: true, emitDeclarationOnly: true, noEmit: false, outDir: 'inferred-out' });
    // And the types those members name, imported by name (aliases are inlined, so only an import shows them missing).
    await writeFile(
      path.join(consumer, 'named.ts'),
      [
        `import type { ContentDispositionValue, HttpDateInit, Response } from 'tsgi';`,
        `import type { CorsOriginResult, TransformedChunks } from 'tsgi/middleware';`,
        `export const disposition = (res: Response): ContentDispositionValue | null => res.contentDisposition;`,
        `export const touch = (res: Response, when: HttpDateInit): void => { res.lastModified = when; };`,
        `export const allow = (origin: string): CorsOriginResult => origin.endsWith('.example') || null;`,
        `export const none: TransformedChunks = undefined;`,
        '',
      ].join('\n'),
    );
    await typeCheck(['named.ts']);
  }, 60_000);

  it("type-checks the README's snippets as written, strictly", async () => {
    expect(README.match(/^```(?:ts|typescript)\s*$/gm), 'every TypeScript snippet names its file, so it is checked').toBeNull();
    const snippets = readmeSnippets();
    expect(snippets.map((s) => s.file)).toEqual(expect.arrayContaining(['hello.ts', 'upload.ts', 'stack.ts', 'routes.ts', 'routes-check.ts', 'app.cts']));
    for (const { file, code } of snippets) await writeFile(path.join(consumer, file), code);
    await typeCheck(snippets.map((s) => s.file));
  });

  it("runs the README's hello-world, middleware stack and upload over a socket", async () => {
    for (const { file, code } of readmeSnippets()) await writeFile(path.join(consumer, file), code);
    const script = `
      import { serve } from 'tsgi';
      import { app } from './stack.ts';
      const server = await serve(app, { port: 0, host: '127.0.0.1', log: { write() {} } });
      const out = {};
      const hello = await fetch(server.url + '/?name=tsgi', { headers: { 'accept-encoding': 'gzip' } });
      out.hello = [hello.status, await hello.text(), hello.headers.get('content-encoding')];
      out.missing = (await fetch(server.url + '/nope')).status;
      out.admin = [(await fetch(server.url + '/admin/')).status];
      const ok = await fetch(server.url + '/admin/', { headers: { authorization: 'Basic ' + btoa('admin:change me') } });
      out.admin.push(ok.status);
      const form = new FormData();
      form.append('file', new Blob(['hello upload'], { type: 'text/plain' }), 'a.txt');
      form.append('file', new Blob([new Uint8Array(3)]), 'b.bin');
      const upload = await fetch(server.url + '/upload/', { method: 'POST', body: form });
      out.upload = [upload.status, await upload.json()];
      out.get = (await fetch(server.url + '/upload/')).status;
      await server.close();
      console.log(JSON.stringify(out));
    `;
    await writeFile(path.join(consumer, 'readme-run.ts'), script);
    const { stdout } = await run(process.execPath, ['readme-run.ts'], { cwd: consumer, env: { ...env, ADMIN_PASSWORD: 'change me' } });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out.hello).toEqual([200, 'Hello, tsgi!\n', null]);
    expect(out.missing).toBe(404);
    expect(out.admin).toEqual([401, 200]);
    expect(out.upload).toEqual([
      200,
      [
        { name: 'a.txt', type: 'text/plain', bytes: 12 },
        { name: 'b.bin', type: 'application/octet-stream', bytes: 3 },
      ],
    ]);
    expect(out.get).toBe(405);
  });

  it("runs the README's routes with the test client, from the tarball", async () => {
    for (const { file, code } of readmeSnippets()) await writeFile(path.join(consumer, file), code);
    const { stdout } = await run(process.execPath, ['routes-check.ts'], { cwd: consumer, env });
    expect(stdout.trim()).toBe('{ id: 3, next: 4 }');
  });

  it("runs the README's CommonJS app.cts as Node runs it (type stripping, require)", async () => {
    const snippet = readmeSnippets().find((s) => s.file === 'app.cts');
    expect(snippet, 'the README gives a ```ts app.cts block').toBeDefined();
    // The consumer is "type": "module"; a .cts is CommonJS whatever the package says.
    await writeFile(path.join(consumer, 'app.cts'), snippet!.code);
    const script = `
      const { app } = require('./app.cts');
      const { TestClient } = require('tsgi/testing');
      new TestClient(app).get('/x').then(async (res) => console.log(res.status, JSON.stringify(await res.text())));
    `;
    await writeFile(path.join(consumer, 'app-cts-run.cjs'), script);
    const { stdout } = await run(process.execPath, ['app-cts-run.cjs'], { cwd: consumer, env });
    expect(stdout.trim()).toBe('200 OK "Hello from CommonJS, /x\\n"');
  });

  it("has README links that resolve for a reader on the registry page", () => {
    const links = [...README.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(10);
    const relative = links.filter((l) => !/^https?:\/\//.test(l));
    expect(relative).toEqual([]);
    for (const link of links.filter((l) => l.startsWith(`${REPOSITORY}/`))) {
      const file = link.replace(/^https:\/\/github\.com\/tsgi\/tsgi\/(blob|tree)\/main\//, '').replace(/#.*$/, '');
      expect(existsSync(path.join(root, file)), link).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git` });
    expect(pkg.homepage).toBe(`${REPOSITORY}#readme`);
    expect(pkg.bugs).toEqual({ url: `${REPOSITORY}/issues` });
  });

  it('installs a working tsgi bin', async () => {
    const bin = path.join(consumer, 'node_modules', '.bin', 'tsgi');
    const { stdout } = await run(bin, ['--help'], { cwd: consumer, env });
    expect(stdout).toMatch(/tsgi serve/);
    // The version is read from package.json beside dist/, wherever the bundle put that code.
    const version = await run(bin, ['--version'], { cwd: consumer, env });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('loads each entry point from a few bundled files, its exports named as the source names them', async () => {
    // scripts/build.ts bundles dist/: the root once reached 149 files of the package, each
    // resolved, read and compiled on its own. A bundler may rename a class (`class _Response`):
    // a user's `res.constructor.name`, and tsgi's own messages, read the name.
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = new Set();
      registerHooks({ load(url, context, next) { if (url.includes('/node_modules/tsgi/')) loaded.add(url); return next(url, context); } });
      const counts = {};
      const renamed = [];
      for (const spec of ${JSON.stringify(ENTRY_SPECIFIERS)}) {
        loaded.clear();
        const module = await import(spec);
        counts[spec] = loaded.size;
        for (const [name, value] of Object.entries(module)) if (typeof value === 'function' && value.name !== name) renamed.push(spec + ': ' + name + ' is named ' + value.name);
      }
      console.log(JSON.stringify({ counts, renamed }));
    `;
    await writeFile(path.join(consumer, 'bundled.mjs'), script);
    const { stdout } = await run(process.execPath, ['bundled.mjs'], { cwd: consumer, env });
    const { counts, renamed } = JSON.parse(stdout) as { counts: Record<string, number>; renamed: string[] };
    expect(renamed).toEqual([]);
    expect(counts.tsgi).toBeGreaterThan(0);
    expect(counts.tsgi).toBeLessThanOrEqual(40);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(120);
  });

  // The machine's own Node, when older than 22.6 (no type stripping at all): the hint must not
  // suggest a flag that Node does not have.
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((file) => {
    if (!existsSync(file)) return false;
    const [major = 0, minor = 0] = execFileSync(file, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim().split('.').map(Number);
    return major < 22 || (major === 22 && minor < 6);
  });
  it.runIf(oldNode !== undefined)('on a Node without type stripping, the bin says which Node serves a .ts file', async () => {
    await writeFile(path.join(consumer, 'typed.ts'), 'export const app = (): string[] => [];\n');
    const main = path.join(consumer, 'node_modules', 'tsgi', 'dist', 'cli', 'main.js');
    const result = await run(oldNode!, [main, 'serve', 'typed.ts', '--port', '0'], { cwd: consumer, env }).then(
      () => ({ stderr: 'exited 0' }),
      (error: { stderr?: string }) => ({ stderr: String(error.stderr) }),
    );
    expect(result.stderr).toMatch(/^tsgi: error while loading 'typed\.ts' \(this Node cannot run \.ts files: use Node >= 22\.18 \(this is v\d+\.\d+\.\d+\)\):\n/);
    expect(result.stderr).not.toContain('--experimental-strip-types');
  });

  /**
   * Runs the installed `tsgi` bin with `serve <file> ... --port 0 --no-access-log`, the file an
   * app answering `text` (a JavaScript expression); hands `check` the URL and the process, then
   * stops it with SIGTERM, which must exit 0.
   */
  async function serveWithBin(file: string, text: string, flags: string[], check: (url: string, pid: number) => Promise<void>): Promise<void> {
    const bin = path.join(consumer, 'node_modules', '.bin', 'tsgi');
    await writeFile(
      path.join(consumer, file),
      `export const app = (environ, start) => { start('200 OK', [['Content-Type', 'text/plain']]); return [new TextEncoder().encode(${text})]; };\n`,
    );
    const child = spawn(bin, ['serve', file, '--port', '0', '--no-access-log', ...flags], { cwd: consumer, env });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const match = /^Serving on (http:\/\/\S+) /m.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before serving`)));
      });
      await check(url, child.pid!);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('the tsgi bin serves a module (its serving code loads from dist/)', async () => {
    await serveWithBin('served.mjs', "'served'", [], async (url) => {
      expect(await (await fetch(`${url}/`)).text()).toBe('served');
    });
  });

  it('the tsgi bin serves with worker processes (code the bundle loads on demand)', async () => {
    await serveWithBin('pid.mjs', 'String(process.pid)', ['--workers', '2'], async (url, primary) => {
      const pid = Number(await (await fetch(`${url}/`)).text());
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(primary);
    });
  });
});
