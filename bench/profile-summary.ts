/**
 * Summarises the V8 CPU profile(s) written by `npm run bench -- --profile`: where the server
 * process spent its busy time, by area (tsgi's src/, Node's http internals, GC, …) and by
 * function (self time, and inclusive time for tsgi's own functions).
 *
 * Usage: `node bench/profile-summary.ts <profile.cpuprofile | folder> [--top N]`
 *
 * Percentages are of the busy samples (everything but `(idle)`), milliseconds are absolute; with
 * one target profiled at a time (`--targets tsgi-raw`), divide by the requests served to compare
 * targets per request.
 *
 * @module
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { top: { type: 'string', default: '25' } },
  allowPositionals: true,
});
const top = Number(values.top);
const input = positionals[0];
if (input === undefined) {
  console.error('usage: node bench/profile-summary.ts <file.cpuprofile | folder> [--top N]');
  process.exit(2);
}

const files = statSync(input).isDirectory()
  ? readdirSync(input)
      .filter((name) => name.endsWith('.cpuprofile'))
      .map((name) => path.join(input, name))
  : [input];
if (files.length === 0) {
  console.error(`no .cpuprofile in ${input}`);
  process.exit(2);
}

/** Which part of the stack a frame belongs to. */
function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.includes('/src/')) return 'tsgi src/';
  if (url.includes('/bench/')) return 'bench targets';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (/^node:(_http|http|internal\/http)/.test(url)) return 'node http';
  if (/^node:(net|internal\/(net|stream_base_commons|tcp))/.test(url)) return 'node net';
  if (url.startsWith('node:')) return 'node other';
  return 'other JS';
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    busy += dt;
    const own = label(node.callFrame);
    self.set(own, (self.get(own) ?? 0) + dt);
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!frame.url.includes('/src/')) continue;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const share = (us: number): string =>
    `${((us / busy) * 100).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const rows = (map: Map<string, number>, n: number): string =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `  ${share(us)}  ${key}`)
      .join('\n');
  console.log(`${path.basename(file)}: ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle`);
  console.log(`\nby area (self time):\n${rows(areas, 20)}`);
  console.log(`\ntop ${top} functions (self time):\n${rows(self, top)}`);
  console.log(`\ntsgi src/ functions (inclusive time):\n${rows(inclusive, top)}\n`);
}
