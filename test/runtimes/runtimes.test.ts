/**
 * The conformance suite (`npm run test:runtimes`): the same requests to examples/everywhere.ts
 * served by Node (`serve()`, Express 5, Fastify 5, `@hono/node-server`), Bun, Deno and workerd,
 * each a process of its own started from the devDependencies, over a real socket. A case a
 * server cannot pass is listed in its row with the reason (test/runtimes/rows.ts); such a case
 * still runs, and passing it fails the suite, so the list stays true. The row × case table is
 * printed at the end.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CASES, uploadGrowth } from './cases.ts';
import { ROWS, type RunningServer } from './rows.ts';

/** Row name → case name → the cell of the table. */
const table = new Map<string, Map<string, string>>();
/** Lines of the report: each server's peak-memory growth during the 50 MB upload. */
const memory: string[] = [];

describe.each(ROWS)('$name', (row) => {
  let server: RunningServer;
  const cells = new Map<string, string>();
  const MiB = 1024 * 1024;
  table.set(row.name, cells);
  beforeAll(async () => {
    server = await row.start();
  }, 60_000);
  afterAll(async () => {
    const growth = server && uploadGrowth.get(server.pid);
    if (growth !== undefined) memory.push(`  ${row.name.padEnd(12)} ${(growth / MiB).toFixed(1)} MiB`);
    await server?.stop();
  });

  it.each(CASES)('$name', async (testCase) => {
    const reason = row.unsupported[testCase.name];
    let failure: unknown;
    try {
      await testCase.run(server, row);
    } catch (error) {
      failure = error;
    }
    if (reason !== undefined) {
      cells.set(testCase.name, 'n/a');
      if (failure === undefined) throw new Error(`listed as unsupported on ${row.name} (${reason}), but it passes: take it off the list`);
      return;
    }
    cells.set(testCase.name, failure === undefined ? 'ok' : 'FAIL');
    if (failure !== undefined) throw failure;
  });
});

afterAll(() => {
  const width = Math.max(...CASES.map((c) => c.name.length));
  const names = ROWS.map((row) => row.name);
  const lines = [`${''.padEnd(width)}  ${names.map((n) => n.padEnd(12)).join('')}`];
  for (const testCase of CASES) {
    lines.push(`${testCase.name.padEnd(width)}  ${names.map((n) => (table.get(n)?.get(testCase.name) ?? '-').padEnd(12)).join('')}`);
  }
  const notes = ROWS.flatMap((row) => Object.entries(row.unsupported).map(([name, reason]) => `  n/a ${row.name} × ${name}: ${reason}`));
  const servers = ROWS.map((row) => `  ${row.name.padEnd(12)} ${row.label}`);
  console.log(
    `\nConformance: examples/everywhere.ts on every server\n\n${lines.join('\n')}\n\n${notes.join('\n')}\n\n${servers.join('\n')}\n` +
      `\nGrowth of the server's peak memory (VmHWM) during the 50 MB upload (garbage not yet collected included):\n${memory.join('\n')}\n`,
  );
});
