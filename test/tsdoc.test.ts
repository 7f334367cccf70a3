/**
 * The project rule "every public export has TSDoc", enforced: the TypeScript checker (the
 * `typescript` 7 API, `typescript/unstable/sync`) opens each entry point of package.json
 * `exports` (its `tsgi-source` file), resolves every exported name through its re-exports to the
 * declaration, and lists each one without a doc comment; plus each property declared in src/ of
 * an exported interface or object type (the `…Options` and `…Init` types first among them); plus
 * the public methods, getters, setters and properties (static ones too) of exported classes.
 * Names the checker gives to `#private` and `unique symbol` keys (`__#…`, `__@…`) are skipped.
 *
 * A gap not yet filled sits in `test/tsdoc-allow.txt` (one `kind name` a line); the test fails
 * when a listed entry gets its doc (remove it) as well as when a new gap appears, so the list
 * only shrinks. Whether a comment says something useful (shape, units, default, throws, source)
 * is for review; the test only sees that one is there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API, ModifierFlags, type Checker, type Project, type Symbol as TsSymbol, SymbolFlags } from 'typescript/unstable/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
};
/** The entry points' source files, as package.json `exports` names them (`tsgi-source`). */
const ENTRY_SOURCES = Object.values(pkg.exports)
  .filter((conditions): conditions is Record<string, string> => typeof conditions === 'object')
  .map((conditions) => path.join(ROOT, conditions['tsgi-source']!));
/** The gaps not yet filled: `kind name` a line, `#` comments. */
const ALLOW_FILE = path.join(ROOT, 'test', 'tsdoc-allow.txt');
/** A small entry point with a documented and an undocumented item of each kind: the check must tell them apart. */
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tsdoc');

/** One program opened with the checker, and the folder whose declarations count as the project's own. */
interface Surface {
  project: Project;
  checker: Checker;
  src: string;
}

let api: API;
let surface: Surface;
let fixture: Surface;

function open(tsconfig: string, src: string): Surface {
  const snapshot = api.updateSnapshot({ openProject: tsconfig });
  const project = snapshot.getProject(tsconfig) ?? snapshot.getProjects()[0]!;
  return { project, checker: project.checker, src: src + path.sep };
}

beforeAll(() => {
  api = new API({ cwd: ROOT });
  surface = open(path.join(ROOT, 'tsconfig.build.json'), path.join(ROOT, 'src'));
  fixture = open(path.join(FIXTURE, 'tsconfig.json'), path.join(FIXTURE, 'src'));
}, 120_000);

afterAll(() => api?.close());

function isDocumented({ checker }: Surface, symbol: TsSymbol): boolean {
  return symbol.getDocumentationComment(checker).trim() !== '';
}

function declaredInSrc({ src }: Surface, symbol: TsSymbol): boolean {
  return symbol.declarations.some((d) => d.path.startsWith(src));
}

/** The exported names of one entry file, resolved through re-exports to their declarations. */
function exportsOf({ project, checker }: Surface, file: string): TsSymbol[] {
  const sourceFile = project.program.getSourceFile(file);
  if (!sourceFile) throw new Error(`${file} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) throw new Error(`${file} has no module symbol`);
  return checker.getExportsOfModule(moduleSymbol).map((s) => (s.flags & SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s));
}

function kindOf(symbol: TsSymbol): string {
  const f = symbol.flags;
  if (f & SymbolFlags.Class) return 'class';
  if (f & SymbolFlags.Function) return 'function';
  if (f & SymbolFlags.Interface) return 'interface';
  if (f & SymbolFlags.TypeAlias) return 'type';
  if (f & SymbolFlags.Variable) return 'const';
  return 'symbol';
}

/** A class member a consumer can reach: a method, property or accessor, not `private`/`protected`/`#private`. */
function isPublicMember({ project }: Surface, member: TsSymbol): boolean {
  if (member.name.startsWith('#') || member.name.startsWith('__')) return false;
  if (!(member.flags & (SymbolFlags.Method | SymbolFlags.Property | SymbolFlags.Accessor))) return false;
  return member.declarations.every((handle) => {
    const node = handle.resolve(project) as { modifierFlags?: number } | undefined;
    return !((node?.modifierFlags ?? 0) & (ModifierFlags.Private | ModifierFlags.Protected));
  });
}

/** How many items the last {@link findGaps} looked at, by kind (reported on failure). */
const counted = { exports: 0, properties: 0, members: 0 };

/** Every gap: `kind name` for an export, `property Type.name` or `member Class.name` within one. */
function findGaps(s: Surface, entries: readonly string[]): string[] {
  const { checker } = s;
  const gaps = new Set<string>();
  const seen = new Set<number>();
  Object.assign(counted, { exports: 0, properties: 0, members: 0 });
  for (const file of entries) {
    for (const symbol of exportsOf(s, file)) {
      if (seen.has(symbol.id) || !declaredInSrc(s, symbol)) continue;
      seen.add(symbol.id);
      counted.exports++;
      const kind = kindOf(symbol);
      if (!isDocumented(s, symbol)) gaps.add(`${kind} ${symbol.name}`);
      if (kind === 'interface' || kind === 'type') {
        for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
          if (!declaredInSrc(s, property) || property.name.startsWith('__')) continue;
          counted.properties++;
          if (!isDocumented(s, property)) gaps.add(`property ${symbol.name}.${property.name}`);
        }
      }
      if (kind === 'class') {
        const instance = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((m) => [m, ''] as const);
        const statics = [...symbol.getExports().values()].filter((m) => m.name !== 'prototype').map((m) => [m, 'static '] as const);
        for (const [member, prefix] of [...instance, ...statics]) {
          if (!declaredInSrc(s, member) || !isPublicMember(s, member)) continue;
          counted.members++;
          if (!isDocumented(s, member)) gaps.add(`member ${prefix}${symbol.name}.${member.name}`);
        }
      }
    }
  }
  return [...gaps].sort();
}

function allowList(): string[] {
  return readFileSync(ALLOW_FILE, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .sort();
}

describe('TSDoc on the public surface', () => {
  it('reaches every entry point and its exports', () => {
    expect(ENTRY_SOURCES).toHaveLength(9);
    for (const file of ENTRY_SOURCES) expect(exportsOf(surface, file).length, file).toBeGreaterThan(0);
  });

  it('lists exactly the undocumented exports, properties of exported types and public class members of a fixture', () => {
    expect(findGaps(fixture, [path.join(FIXTURE, 'src', 'entry.ts')])).toEqual([
      'const VALUE',
      'member Thing.label',
      'member Thing.run',
      'member static Thing.make',
      'function undocumented',
      'interface PlainShape',
      'property DocumentedOptions.size',
      'property PlainShape.x',
      'property UndocumentedInit.b',
      'type UndocumentedInit',
    ].sort());
  });

  it('leaves no gap beyond the allow-list, and the allow-list holds no documented entry', () => {
    const gaps = findGaps(surface, ENTRY_SOURCES);
    const allowed = allowList();
    const undocumented = gaps.filter((g) => !allowed.includes(g));
    const stale = allowed.filter((a) => !gaps.includes(a));
    const checked = `checked ${counted.exports} exports, ${counted.properties} properties of exported types, ${counted.members} class members`;
    expect(counted.exports, checked).toBeGreaterThan(300);
    expect(undocumented, `without a doc comment (${checked})`).toEqual([]);
    expect(stale, 'documented now: remove from test/tsdoc-allow.txt').toEqual([]);
  }, 120_000);
});
