/**
 * A Worker for test/runtimes/workerd-access-log.test.ts: `accessLog` over an async app under
 * `toFetchHandler` (the adapter listens to the request's signal while the app works, its wait
 * the `abort` listener). `/logged` answers the lines logged so far, as `status outcome`.
 */
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog } from 'tsgi/middleware';

const lines: string[] = [];

const slow: App = async (environ, startResponse) => {
  if (environ.PATH_INFO === '/logged') {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [new TextEncoder().encode(lines.join('\n'))];
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};

const app = accessLog(slow, {
  format: 'json',
  log: {
    write: (line: string) => {
      const { status, outcome, url } = JSON.parse(line) as { status: number; outcome: string; url: string };
      if (url !== '/logged') lines.push(`${status} ${outcome}`);
    },
  },
});

export default { fetch: toFetchHandler(app) };
