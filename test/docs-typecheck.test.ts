/**
 * Every ```ts block of docs/*.md and the README type-checks, strictly, against src/: the code
 * users copy uses options, methods and argument orders that exist (test/docs.test.ts only checks
 * the names imported from `tsgi…`).
 *
 * Each block becomes its own module in ONE program (the `typescript` 7 API, over a virtual folder
 * under the repository, so `tsgi`, `tsgi/middleware`… resolve to src/ through package.json's
 * `tsgi-source` condition), with the compiler options the README gives users. Many blocks are
 * fragments of a page: they get a prelude, made per block, for each name they use but do not
 * declare or import:
 * - a name an earlier block of the same page declares at its top level, or imports, comes from
 *   there (the `web` of a later Hono fragment is the `web` the page built above), but for the
 *   names of `tsgi…` in a block that imports: copied alone, it must import every one it uses
 *   (else `new Response(…)` is silently the fetch `Response`);
 * - in a fragment (a block without `import`), a name `tsgi` or an entry point exports is imported
 *   from there;
 * - otherwise {@link CONTEXT}: the request, response, environ… a fragment stands in, typed
 *   exactly, and the reader's own code (`db`, `render`, `loadDocument`), typed `any`.
 * A fragment with a `return` at its top level (the body of a handler) is checked as the body of
 * an async function. A relative import (`./app.ts`) names an earlier block's file (```ts
 * hello.ts), a file of examples/, or else a stand-in module exporting `App`s.
 *
 * A block the prelude cannot make sense of is skipped with `<!-- not type-checked: reason -->`
 * on the line before its fence; skips are listed in {@link SKIPS_EXPECTED} so they stay rare.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API } from 'typescript/unstable/sync';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The virtual folder the blocks are written to (nothing is written on disk). */
const DIR = path.join(ROOT, '.docs-typecheck');
/**
 * How many blocks carry `<!-- not type-checked: … -->`: docs/response.md's React renderer (react
 * is no dependency; test/ssr-recipe.test.ts runs it against a stand-in).
 */
const SKIPS_EXPECTED = 1;

/** One fenced TypeScript block: where it starts (the fence's line, from 1), its info string's file name, its code. */
interface DocBlock {
  file: string;
  line: number;
  name: string | undefined;
  code: string;
  skip: string | undefined;
}

/** The ```ts and ```typescript blocks of docs/*.md and README.md, indented ones (in list items) too. */
function docBlocks(root = ROOT): DocBlock[] {
  const pages = [...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`), 'README.md'];
  const blocks: DocBlock[] = [];
  for (const file of pages) {
    const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^( *)(`{3,})(?:ts|typescript)(?:\s+(\S+))?\s*$/.exec(lines[i]!);
      if (!open) continue;
      const indent = open[1]!.length;
      const close = new RegExp(`^ *${open[2]}\\s*$`);
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !close.test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, /^ */.exec(lines[j]!)![0].length)));
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === '') before--;
      const skip = /^\s*<!--\s*not type-checked:\s*(.+?)\s*-->\s*$/.exec(lines[before] ?? '')?.[1];
      blocks.push({ file, line: i + 1, name: open[3], code: body.join('\n'), skip });
      i = j;
    }
  }
  return blocks;
}

const anyOf = (names: string) => Object.fromEntries(names.split(/\s+/).map((n) => [n, `declare const ${n}: any;`]));
const typed = (names: string, type: string) => Object.fromEntries(names.split(/\s+/).map((n) => [n, `declare const ${n}: ${type};`]));

/**
 * What a fragment may use without declaring it. tsgi's objects are typed exactly, so a wrong
 * method or option on them is caught; the reader's own code is `any`.
 */
const CONTEXT: Record<string, string> = {
  ...typed(
    'app site api apiApp admin adminApp staffApp router home blog v1 v2 legacy healthz readyz metricsApp tsgiApp page',
    "import('tsgi').App",
  ),
  req: "declare const req: import('tsgi').Request;",
  request: "declare const request: import('tsgi').Request;",
  res: "declare const res: import('tsgi').Response;",
  environ: "declare const environ: import('tsgi').Environ;",
  startResponse: "declare const startResponse: import('tsgi').StartResponse;",
  client: "declare const client: import('tsgi/testing').TestClient;",
  server: "declare const server: import('tsgi').ServerHandle;",
  metrics: "declare const metrics: import('tsgi').App;",
  'docs/deployment.md#metrics': "declare const metrics: (app: import('tsgi').App) => import('tsgi').App;",
  'docs/server.md#req': "declare const req: import('node:http').IncomingMessage;",
  error: 'declare const error: unknown;',
  inbox: 'declare const inbox: { next(options: { signal: AbortSignal }): Promise<unknown> };',
  Order: 'type Order = { id: string; customer: string; total: number };',
  tracing: "declare const tracing: (app: import('tsgi').App) => import('tsgi').App;",
  upgrade: "declare const upgrade: NonNullable<import('tsgi').ServeOptions['upgrade']>;",
  verify: "declare const verify: import('tsgi/middleware').BasicVerify & import('tsgi/middleware').BearerVerify<string>;",
  stopping: 'declare const stopping: AbortController;',
  bytes: 'declare const bytes: Uint8Array;',
  size: 'declare const size: number;',
  expect: "import { expect } from 'vitest';",
  web: "declare const web: import('express').Express;",
  fastify: "declare const fastify: import('fastify').FastifyInstance;",
  socket: "declare const socket: import('node:stream').Duplex;",
  head: 'declare const head: Buffer;',
  wss: "declare const wss: import('ws').WebSocketServer;",
  ...typed('token secret key OLD UPSTREAM BANNER prompt', 'string'),
  form: 'declare const form: Record<string, string>;',
  ...anyOf(
    'db render layout loadDocument saveDocument findDocument loadArticle renderArticle renderHomePage checkHash checkPassword signIn fetchUpstream handle log handleEvent produceFirstChunk sink csvLine show feed model tracker requests since expected routes handlers encoder doc services Bun Deno processed',
  ),
  encode: 'declare const encode: (text: string) => Uint8Array;',
};

/** Modules the docs name that the repository does not install: typed `any`. */
const AMBIENT = `declare module '@opentelemetry/api' { export const context: any; }
declare module '@opentelemetry/core' { export const RPCType: any; export const getRPCMetadata: any; }
`;

/** The names each entry point exports (values and types), read from its source, first entry first. */
function entryExports(): Map<string, { spec: string; type: boolean }> {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
  const names = new Map<string, { spec: string; type: boolean }>();
  for (const [sub, conditions] of Object.entries(pkg.exports)) {
    if (typeof conditions !== 'object') continue;
    const spec = sub === '.' ? 'tsgi' : `tsgi/${sub.slice(2)}`;
    const source = readFileSync(path.join(ROOT, conditions['tsgi-source']!), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
      for (const item of m[2]!.split(',')) {
        const parts = item.trim().split(/\s+/);
        const type = m[1] !== undefined || parts[0] === 'type';
        const name = parts.at(-1)!;
        if (name && !names.has(name)) names.set(name, { spec, type });
      }
    }
  }
  return names;
}

/** The code without comments and string contents (template literals keep their `${…}`), for finding names. */
const codeOnly = (code: string) =>
  code
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''")
    .replace(/(^|[^:])\/\/.*$/gm, '$1');

/** The names a block declares anywhere (imports, declarations, destructuring), roughly: enough not to declare them twice. */
function declaredIn(code: string): Set<string> {
  const names = new Set<string>();
  const text = codeOnly(code);
  for (const m of text.matchAll(/^\s*import\s+(?:type\s+)?([^;'"]*?)\s+from\s/gm)) {
    for (const part of m[1]!.replace(/[{}]/g, ',').split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).at(-1)!.replace(/^\*\s*as\s+/, '').trim();
      if (/^[\w$]+$/.test(name)) names.add(name);
    }
  }
  for (const m of text.matchAll(/\b(?:const|let|var|function\*?|class|interface|type|enum)\s+([\w$]+)/g)) names.add(m[1]!);
  for (const m of text.matchAll(/\b(?:const|let|var)\s+([{[][^=]*?[}\]])\s*(?::[^=]*)?=/g)) {
    for (const part of m[1]!.replace(/[{}[\]]/g, ',').split(',')) {
      const name = part.split(':').at(-1)!.split('=')[0]!.replace('...', '').trim();
      if (/^[\w$]+$/.test(name)) names.add(name);
    }
  }
  return names;
}

/**
 * What a block gives the blocks after it on its page: each name it imports (the same import) and
 * each name it declares at the top level (column 0; imported from the block's module).
 */
function provided(code: string, module: string, wrapped: boolean): Map<string, { from: string; type: boolean; original: string; exported: boolean }> {
  const names = new Map<string, { from: string; type: boolean; original: string; exported: boolean }>();
  for (const m of code.matchAll(/^import\s+(type\s+)?([^;'"]*?)\s+from\s+'([^']+)'/gm)) {
    const [, typeOnly, clause, spec] = m as unknown as [string, string | undefined, string, string];
    const named = /\{([^}]*)\}/.exec(clause)?.[1];
    for (const item of named?.split(',') ?? []) {
      const parts = item.trim().split(/\s+as\s+/);
      const type = typeOnly !== undefined || /^type\s/.test(parts[0]!);
      const original = parts[0]!.replace(/^type\s+/, '');
      if (original) names.set(parts.at(-1)!.replace(/^type\s+/, ''), { from: spec, type, original, exported: true });
    }
    const outside = clause.replace(/\{[^}]*\}/, '').split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of outside) {
      const star = /^\*\s+as\s+([\w$]+)$/.exec(x);
      names.set(star ? star[1]! : x, { from: spec, type: typeOnly !== undefined, original: star ? '*' : 'default', exported: true });
    }
  }
  if (wrapped) return names;
  for (const m of code.matchAll(/^(export\s+)?(?:declare\s+)?(?:async\s+)?(const|let|var|function\*?|class|interface|type|enum)\s+([\w$]+)/gm)) {
    names.set(m[3]!, { from: module, type: m[2] === 'interface' || m[2] === 'type', original: m[3]!, exported: m[1] !== undefined });
  }
  return names;
}

/** An import line for one name. */
function importLine(name: string, { from, type, original }: { from: string; type: boolean; original: string }): string {
  const t = type ? 'type ' : '';
  if (original === '*') return `import ${t}* as ${name} from '${from}';`;
  if (original === 'default') return `import ${t}${name} from '${from}';`;
  return `import ${t}{ ${original === name ? name : `${original} as ${name}`} } from '${from}';`;
}

/** Names every fragment means the same way: from {@link CONTEXT} even when an earlier block declared its own. */
const GENERIC = new Set(['req', 'res', 'request', 'environ', 'startResponse', 'error']);

/** A program's files: path → text, and for each block file the doc line of each of its lines (null: prelude). */
interface Program {
  files: Map<string, string>;
  lines: Map<string, { block: DocBlock; docLine: Array<number | null> }>;
}

/** Builds the virtual program from the blocks. */
function buildProgram(blocks: DocBlock[]): Program {
  const exportsOf = entryExports();
  const files = new Map<string, string>();
  const lines = new Map<string, { block: DocBlock; docLine: Array<number | null> }>();
  type Provided = ReturnType<typeof provided>;
  const byPage = new Map<string, Provided[]>();
  const fileOf = (block: DocBlock) => path.join(DIR, block.file.replace(/\.md$/, ''), block.name ?? `L${block.line}.ts`);
  const checked = blocks.filter((b) => b.skip === undefined);
  for (const block of checked) {
    const file = fileOf(block);
    const relative = (module: string) => (module.startsWith('/') ? `./${path.relative(path.dirname(file), module)}` : module);
    const earlier = byPage.get(block.file) ?? [];
    const declared = declaredIn(block.code);
    const fragment = !/^\s*import\s/m.test(codeOnly(block.code));
    const used = new Set(codeOnly(block.code).match(/(?<![\w$.])[A-Za-z_$][\w$]*/g) ?? []);
    const prelude: string[] = [];
    for (const name of used) {
      if (declared.has(name)) continue;
      const context = CONTEXT[`${block.file}#${name}`] ?? CONTEXT[name];
      const from = GENERIC.has(name) ? undefined : earlier.findLast((e) => e.has(name))?.get(name);
      // A block that imports imports its own tsgi names: copied alone, it must work.
      if (from && !fragment && /^tsgi(\/|$)/.test(from.from)) continue;
      const entry = fragment ? exportsOf.get(name) : undefined;
      if (from) prelude.push(importLine(name, { ...from, from: relative(from.from) }));
      else if (entry) prelude.push(importLine(name, { from: entry.spec, type: entry.type, original: name }));
      else if (context !== undefined) prelude.push(context);
    }
    const codeLines = block.code.split('\n');
    const wrap = /^return\b/m.test(block.code);
    const out: string[] = [];
    const docLine: Array<number | null> = [];
    const emit = (text: string, line: number | null) => {
      out.push(text);
      docLine.push(line);
    };
    for (const p of prelude) emit(p, null);
    if (wrap) {
      // A handler's body: its imports stay at the top level.
      codeLines.forEach((text, i) => /^import\s/.test(text) && emit(text, block.line + 1 + i));
      emit('export async function fragment(): Promise<unknown> {', null);
      codeLines.forEach((text, i) => !/^import\s/.test(text) && emit(text, block.line + 1 + i));
      emit('}', null);
    } else codeLines.forEach((text, i) => emit(text, block.line + 1 + i));
    const gives = provided(block.code, file, wrap);
    const unexported = [...gives].filter(([, g]) => g.from === file && !g.exported).map(([name, g]) => `${g.type ? 'type ' : ''}${name}`);
    emit(`export { ${unexported.join(', ')} };`, null);
    files.set(file, out.join('\n') + '\n');
    lines.set(file, { block, docLine });
    earlier.push(gives);
    byPage.set(block.file, earlier);
    // Relative imports: another block's file, a file of examples/, or a stand-in exporting Apps.
    for (const m of block.code.matchAll(/^import\s+(?:type\s+)?([^;'"]*?)\s+from\s+'(\.\/[^']+)'/gm)) {
      const target = path.join(path.dirname(file), m[2]!);
      if (checked.some((b) => b.file === block.file && fileOf(b) === target)) continue;
      const real = [path.join(ROOT, m[2]!), path.join(ROOT, 'examples', path.basename(m[2]!))].find((p) => existsSync(p));
      if (real) {
        files.set(target, `export * from '${path.relative(path.dirname(target), real)}';\n`);
        continue;
      }
      const names = new Set((files.get(target) ?? '').match(/(?<=export declare const )[\w$]+/g));
      for (const n of m[1]!.replace(/[{}]/g, '').split(',')) names.add(n.trim().split(/\s+as\s+/)[0]!.replace(/^type\s+/, ''));
      names.delete('');
      files.set(target, [...names].map((n) => `export declare const ${n}: import('tsgi').App;\n`).join(''));
    }
  }
  files.set(path.join(DIR, 'ambient.d.ts'), AMBIENT);
  const readme = /^```json tsconfig\.json\n([\s\S]*?)^```$/m.exec(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const userOptions = (JSON.parse(readme![1]!) as { compilerOptions: Record<string, unknown> }).compilerOptions;
  files.set(
    path.join(DIR, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { ...userOptions, customConditions: ['tsgi-source'], skipLibCheck: true, noEmit: true },
      files: ['ambient.d.ts', ...[...lines.keys()].map((f) => path.relative(DIR, f))],
    }),
  );
  return { files, lines };
}

/** One error: `docs/page.md:123: TS2339 Property … (the line)`. */
interface DocError {
  where: string;
  message: string;
}

/** Type-checks the blocks in one program and answers each error at its doc line. */
function typeCheckBlocks(blocks: DocBlock[]): DocError[] {
  const { files, lines } = buildProgram(blocks);
  const dirs = new Set<string>();
  for (const f of files.keys()) for (let d = path.dirname(f); d.startsWith(DIR); d = path.dirname(d)) dirs.add(d);
  const inside = (p: string) => p === DIR || p.startsWith(DIR + path.sep);
  const api = new API({
    cwd: ROOT,
    fs: {
      readFile: (f) => files.get(f) ?? (inside(f) ? null : undefined),
      fileExists: (f) => (files.has(f) ? true : inside(f) ? false : undefined),
      directoryExists: (d) => (dirs.has(d) ? true : inside(d) ? false : undefined),
      getAccessibleEntries: (d) =>
        dirs.has(d)
          ? {
              files: [...files.keys()].filter((f) => path.dirname(f) === d).map((f) => path.basename(f)),
              directories: [...dirs].filter((x) => path.dirname(x) === d).map((x) => path.basename(x)),
            }
          : undefined,
    },
  });
  try {
    const tsconfig = path.join(DIR, 'tsconfig.json');
    const project = api.updateSnapshot({ openProject: tsconfig }).getProject(tsconfig)!;
    const program = project.program;
    const diagnostics = [...program.getConfigFileParsingDiagnostics(), ...program.getProgramDiagnostics(), ...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()];
    return diagnostics.map((d) => {
      const chain = (c: { text: string; messageChain?: unknown[] }, indent: string): string =>
        ((c.messageChain ?? []) as Array<{ text: string; messageChain?: unknown[] }>).map((n) => `\n${indent}${n.text}${chain(n, `${indent}  `)}`).join('');
      const message = `TS${d.code} ${d.text}${chain(d as never, '  ')}`;
      const fileName = (d as { fileName?: string }).fileName;
      const at = fileName === undefined ? undefined : lines.get(fileName);
      if (at === undefined) return { where: fileName ?? '(program)', message };
      const line = files.get(fileName!)!.slice(0, d.pos).split('\n').length - 1;
      const docLine = at.docLine[line] ?? null;
      const text = docLine === null ? `(prelude) ${files.get(fileName!)!.split('\n')[line]}` : at.block.code.split('\n')[docLine - at.block.line - 1]!.trim();
      return { where: `${at.block.file}:${docLine ?? at.block.line}`, message: `${message}\n    | ${text}` };
    });
  } finally {
    api.close();
  }
}

describe('docs type-check', () => {
  const blocks = docBlocks();

  it('finds the blocks: indented ones (in list items), named ones (```ts hello.ts), few skipped', () => {
    expect(blocks.length).toBeGreaterThan(150);
    expect(blocks.find((b) => b.file === 'docs/middleware.md' && b.code.startsWith('const blog = '))).toBeDefined();
    expect(blocks.filter((b) => b.file === 'README.md').map((b) => b.name)).toEqual(expect.arrayContaining(['hello.ts', 'app.cts']));
    const skipped = blocks.filter((b) => b.skip !== undefined).map((b) => `${b.file}:${b.line}: ${b.skip}`);
    expect(skipped, 'a new skip: fix the block, or raise SKIPS_EXPECTED and say why').toHaveLength(SKIPS_EXPECTED);
  });

  it('type-checks every ts block of docs/ and the README in one program', () => {
    const errors = typeCheckBlocks(blocks).map((e) => `${e.where}: ${e.message}`);
    expect(errors.join('\n\n')).toBe('');
  }, 60_000);

  it('names the doc line of a block that stops type-checking', () => {
    const broken: DocBlock = { file: 'docs/example.md', line: 10, name: undefined, code: "import { Response } from 'tsgi';\nconst res = new Response('x');\nres.addEtags();\n", skip: undefined };
    const errors = typeCheckBlocks([broken]);
    expect(errors.map((e) => e.where)).toEqual(['docs/example.md:13']);
    expect(errors[0]!.message).toMatch(/TS2551 Property 'addEtags' does not exist on type 'Response'/);
    expect(typeCheckBlocks([{ ...broken, skip: 'a partial snippet' }])).toEqual([]);
  }, 60_000);

  it('reads the skip marker on the line before a fence, and indented fences', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-typecheck-'));
    try {
      mkdirSync(path.join(root, 'docs'));
      writeFileSync(path.join(root, 'README.md'), '```ts hello.ts\nexport {};\n```\n');
      writeFileSync(
        path.join(root, 'docs', 'a.md'),
        ['<!-- not type-checked: a partial snippet -->', '```ts', 'res.…', '```', '- item:', '', '  ```typescript', '  const x = 1;', '    x;', '  ```', ''].join('\n'),
      );
      expect(docBlocks(root)).toEqual([
        { file: 'docs/a.md', line: 2, name: undefined, code: 'res.…', skip: 'a partial snippet' },
        { file: 'docs/a.md', line: 7, name: undefined, code: 'const x = 1;\n  x;', skip: undefined },
        { file: 'README.md', line: 1, name: 'hello.ts', code: 'export {};', skip: undefined },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
