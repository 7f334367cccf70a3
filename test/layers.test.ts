/**
 * The source reads as layers (docs/architecture.md): a module imports only from its own
 * folder's layer or a lower one, and no import cycle exists, type-only imports included.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** The folders of src/, lowest layer first; `index.ts` and entries/ are the top. */
const LAYERS = ['gateway', 'http', 'response', 'exceptions', 'datastructures', 'forms', 'request', 'middleware', 'proxy', 'routing', 'testing', 'adapters', 'cli', 'entries'];

function layerOf(file: string): number {
  const top = file.split('/')[0]!;
  if (top === 'index.ts') return LAYERS.indexOf('entries');
  const index = LAYERS.indexOf(top);
  if (index === -1) throw new Error(`src/${file} is in no layer: add its folder to LAYERS`);
  return index;
}

/** Every module of src/ and the relative modules it imports (values and types). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files.map((f) => f.split(path.sep).join('/'))) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
      targets.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** The import cycles of `graph` (Tarjan's strongly connected components of more than one module, or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('source layers', () => {
  const graph = importGraph();

  it('resolves every relative import to a module of src/', () => {
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('imports only from the same layer or a lower one', () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => graph.has(t) && layerOf(t) > layerOf(file)).map((t) => `${file} -> ${t}`),
    );
    expect(upward).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one (the checks can fail)', () => {
    const bad = new Map([
      ['gateway/a.ts', ['request/b.ts']],
      ['request/b.ts', ['gateway/a.ts']],
    ]);
    expect(cycles(bad)).toEqual([['gateway/a.ts', 'request/b.ts']]);
    expect(layerOf('request/b.ts')).toBeGreaterThan(layerOf('gateway/a.ts'));
  });
});
