/**
 * `accessLog` under `toFetchHandler` on workerd: while an async app works the adapter listens to
 * the request's signal (its wait is the `abort` listener, an object with `handleEvent`), which
 * workerd takes as any runtime does; the answer and its line are as without it. Over a real
 * socket on 127.0.0.1.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-access-log.ts', import.meta.url)), '/logged');
});
afterAll(() => server?.stop());

it('answers an async app under accessLog and logs it with its status', async () => {
  const answer = await fetch(`${server.origin}/slow`);
  expect(answer.status).toBe(200);
  expect(await answer.text()).toBe('ok');
  const logged = await (await fetch(`${server.origin}/logged`)).text();
  expect(logged.split('\n')).toContain('200 end');
});
