/**
 * A GET over a socket that reports how long the answer took: the routing tests' check that a
 * crafted path is answered at once (test/routing-backtracking.test.ts,
 * test/routing-custom-split.test.ts).
 */
import http from 'node:http';

/** GET `path` from the server at `url` with `Host: host`; the status, the body and the milliseconds it took. */
export function timedGet(url: string, path: string, host = 'example.com'): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text, ms: performance.now() - started }));
    });
    req.on('error', reject);
  });
}
