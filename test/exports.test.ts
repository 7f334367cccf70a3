/**
 * The public surface: each entry point (package.json `exports`) exports its names explicitly,
 * held against a checked-in list in test/exports/, so a change to the public surface is a
 * visible diff in review (`npx vitest run test/exports.test.ts -u` rewrites the lists).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  typesVersions?: Record<string, Record<string, string[]>>;
};

/** The entry points: subpath → its `tsgi-source` file. */
const ENTRIES = Object.entries(pkg.exports)
  .filter((entry): entry is [string, Record<string, string>] => typeof entry[1] === 'object')
  .map(([subpath, conditions]) => ({ subpath, specifier: `tsgi${subpath.slice(1)}`, source: conditions['tsgi-source']! }));

/** The names an entry file exports, `value Name` or `type Name`, sorted; read from its text. */
function exportedNames(source: string): string[] {
  const text = readFileSync(`${ROOT}${source}`, 'utf8');
  const names: string[] = [];
  for (const match of text.matchAll(/^export\s+(type\s+)?\{([^}]*)\}\s+from\s+'[^']+';/gms)) {
    for (const raw of match[2]!.split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const isType = match[1] !== undefined || item.startsWith('type ');
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!;
      names.push(`${isType ? 'type' : 'value'} ${name}`);
    }
  }
  return names.sort();
}

describe('entry points', () => {
  it('lists every entry with its types, its JavaScript and its source', () => {
    expect(ENTRIES.map((e) => e.subpath)).toEqual(['.', './middleware', './http', './forms', './node', './proxy', './routing', './testing', './fetch']);
    for (const [subpath, conditions] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      expect(Object.keys(conditions as object), subpath).toEqual(['tsgi-source', 'types', 'default']);
    }
  });

  it('maps every subpath to its types in typesVersions too, for TypeScript 5\'s node10 resolution (which reads no exports)', () => {
    // `"module": "commonjs"` without `moduleResolution` means node10 before TypeScript 7: the root
    // resolves through `types`, each subpath only through typesVersions (as Hono ships).
    const subpaths = Object.fromEntries(
      ENTRIES.filter((e) => e.subpath !== '.').map((e) => [e.subpath.slice(2), [(pkg.exports[e.subpath] as Record<string, string>).types!]]),
    );
    expect(pkg.typesVersions).toEqual({ '*': subpaths });
  });

  for (const entry of ENTRIES) {
    describe(entry.specifier, () => {
      it('is made of explicit named re-exports only (no export *, no declarations)', () => {
        const code = readFileSync(`${ROOT}${entry.source}`, 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/^\s*\/\/.*$/gm, '');
        const statements = code.split(';').map((s) => s.trim()).filter(Boolean);
        for (const statement of statements) expect(statement, entry.source).toMatch(/^export\s+(type\s+)?\{[^}]*\}\s+from\s+'\.[^']+'$/s);
      });

      it('exports the checked-in list of names', async () => {
        const names = exportedNames(entry.source);
        const file = entry.specifier.replace('/', '-');
        await expect(`${names.join('\n')}\n`).toMatchFileSnapshot(`exports/${file}.txt`);
      });

      it('exports at run time exactly the values its text lists', async () => {
        const module = (await import(entry.specifier)) as Record<string, unknown>;
        const values = exportedNames(entry.source).filter((n) => n.startsWith('value ')).map((n) => n.slice(6));
        expect(Object.keys(module).sort()).toEqual(values.sort());
      });

      it('shadows no fetch or JavaScript global but the toolkit’s own Request and Response', () => {
        const names = exportedNames(entry.source).map((n) => n.split(' ')[1]!);
        const shadowing = names.filter((n) => n in globalThis && n !== 'Request' && n !== 'Response');
        expect(shadowing).toEqual([]);
      });
    });
  }

  it('exports no name from two entries (one home per name), but serve, which the root re-exports', () => {
    const homes = new Map<string, string[]>();
    for (const entry of ENTRIES) {
      for (const name of exportedNames(entry.source)) homes.set(name, [...(homes.get(name) ?? []), entry.specifier]);
    }
    const twice = [...homes].filter(([, where]) => where.length > 1).map(([name, where]) => `${name}: ${where.join(', ')}`);
    expect(twice).toEqual(['type CloseOptions: tsgi, tsgi/node', 'type ServeOptions: tsgi, tsgi/node', 'type ServerHandle: tsgi, tsgi/node', 'value serve: tsgi, tsgi/node']);
  });
});
