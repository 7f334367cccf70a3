/**
 * tsgi behind nginx, end to end (`npm run test:nginx`, called by .ci/run; needs the `nginx`
 * binary, which .ci/run installs from Debian when it is missing).
 *
 * Two `tsgi serve --workers 2 --proxy-headers --forwarded-host --forwarded-prefix` instances on two ports behind one nginx that
 * terminates TLS, balances between them and forwards `X-Forwarded-*`, with the configuration
 * of docs/deployment.md taken word for word (only ports, certificate and folders replaced).
 * The client connects from 127.0.0.2, so its address differs from nginx's (127.0.0.1).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCertificate, makeCertificate } from '../tls-helpers.ts';
import { freePort } from '../free-port.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLIENT_ADDRESS = '127.0.0.2';
const GIB = 1024 ** 3;
/** Peak memory a worker may reach while 1 GiB streams through it. */
const PEAK_LIMIT = 300 * 1024 * 1024;

/** The nginx binary: on PATH, or Debian's /usr/sbin/nginx. */
function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('nginx is not installed: apt-get install nginx (.ci/run does it when it runs as root)');
}

/** The `server`/`upstream` block of docs/deployment.md, marked as tested. */
function documentedConfig(): string {
  const doc = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
  const match = /<!-- nginx\.conf: tested by test\/nginx\/nginx\.test\.ts -->\n```nginx\n([\s\S]*?)\n```/.exec(doc);
  if (!match) throw new Error('docs/deployment.md has no tested nginx block');
  return match[1]!;
}

interface Instance {
  readonly child: ChildProcess;
  out: string;
  readonly exited: Promise<number | null>;
}

const processes: ChildProcess[] = [];

/** Starts `tsgi serve test/nginx/app.ts` on `port`; resolves once both workers listen (the debug log says so). */
async function startInstance(name: string, port: number, env: Record<string, string>, extra: string[] = ['--no-access-log']): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--conditions=tsgi-source', 'src/cli/main.ts', 'serve', 'test/nginx/app.ts', '--port', String(port), '--workers', '2', '--proxy-headers', '--forwarded-host', '--forwarded-prefix', '--max-body-size', '2gb', '--log-level', 'debug', ...extra],
    { cwd: ROOT, env: { ...process.env, ...env, TSGI_TEST_INSTANCE: name }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  processes.push(child);
  const instance: Instance = { child, out: '', exited: new Promise((resolve) => child.once('exit', resolve)) };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (instance.out += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (instance.out += text));
  const deadline = Date.now() + 20_000;
  while ((instance.out.match(/^tsgi: worker \d+ listening$/gm) ?? []).length < 2) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`instance ${name} did not start: ${instance.out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return instance;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let prefix: string;
let certificate: TestCertificate;
let publicPort: number;
/** nginx's plain-HTTP port in front of the instance whose workers keep being replaced. */
let churnPort: number;
let direct: number;
let instances: Instance[];
let legacyUpstream: http.Server | undefined;

/** A request to nginx over TLS from {@link CLIENT_ADDRESS}; `upload` bytes are streamed. */
function request(path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; upload?: number; count?: boolean } = {}): Promise<Answer & { bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: 'localhost', port: publicPort, path, method: options.method ?? 'GET', headers: options.headers, ca: certificate.cert, localAddress: CLIENT_ADDRESS, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.byteLength;
          if (!options.count) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.upload === undefined) {
      req.end();
      return;
    }
    // Stream the upload with backpressure: 1 MiB at a time.
    const chunk = Buffer.alloc(1024 * 1024, 97);
    let left = options.upload;
    const pump = () => {
      while (left > 0) {
        const piece = left >= chunk.byteLength ? chunk : chunk.subarray(0, left);
        left -= piece.byteLength;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

const json = (answer: Answer) => JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;

/** The peak resident memory of a process (VmHWM), in bytes. */
function peakMemory(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

beforeAll(async () => {
  const nginx = nginxBinary();
  prefix = mkdtempSync(join(tmpdir(), 'tsgi-nginx-'));
  certificate = await makeCertificate();
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir));
  const [port, a, b, legacyPort, c, churn] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  publicPort = port;
  churnPort = churn;
  direct = a;
  // The legacy service behind the app's /legacy/: its redirects name its own address.
  const legacyUrl = `http://127.0.0.1:${legacyPort}`;
  legacyUpstream = http.createServer((req, res) => {
    if (req.url === '/old') res.writeHead(301, { Location: `${legacyUrl}/new` }).end();
    else res.writeHead(200, { 'Content-Type': 'text/plain' }).end('legacy page');
  });
  await new Promise<void>((resolve) => legacyUpstream!.listen(legacyPort, '127.0.0.1', resolve));
  const jsonLog = ['--access-log-format', 'json'];
  instances = await Promise.all([startInstance('A', a, { LEGACY_UPSTREAM: legacyUrl }, jsonLog), startInstance('B', b, { LEGACY_UPSTREAM: legacyUrl }, jsonLog)]);
  // A third instance whose workers are replaced every 25 requests, behind an upstream block
  // with the documented keep-alive settings.
  await startInstance('C', c, {}, ['--no-access-log', '--limit-max-requests', '25']);
  const churnSite =
    `upstream churn {\n    server 127.0.0.1:${c} max_fails=0;\n    keepalive 16;\n    keepalive_timeout 4s;\n}\n` +
    `server {\n    listen 127.0.0.1:${churn};\n    location / {\n        proxy_pass http://churn;\n        proxy_http_version 1.1;\n` +
    `        proxy_set_header Connection "";\n        proxy_next_upstream error timeout http_502 http_503;\n    }\n}\n`;
  const site = documentedConfig()
    .replace('listen 443 ssl;', `listen 127.0.0.1:${publicPort} ssl;`)
    .replace('server 127.0.0.1:8001 ', `server 127.0.0.1:${a} `)
    .replace('server 127.0.0.1:8002 ', `server 127.0.0.1:${b} `)
    .replace('/etc/ssl/certs/example.com.pem', certificate.certFile)
    .replace('/etc/ssl/private/example.com.key', certificate.keyFile);
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${join(prefix, 'tmp', kind)};`).join('\n');
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `${user}worker_processes 1;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'logs/error.log')} warn;\n` +
      `events { worker_connections 1024; }\nhttp {\n    log_format withid '$remote_addr "$request" $status $request_id';\n` +
      `    access_log ${join(prefix, 'logs/access.log')} withid;\n${temp}\n${site}\n${churnSite}}\n`,
  );
  const server = spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(server);
  let log = '';
  server.stderr!.setEncoding('utf8').on('data', (text: string) => (log += text));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`nginx exited: ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(publicPort, '127.0.0.1', () => resolve(probe.destroy() !== undefined));
      probe.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  for (const child of processes) {
    try {
      if (child.spawnargs.includes('daemon off;')) child.kill('SIGQUIT');
      else process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  legacyUpstream?.close();
  certificate?.remove();
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

describe('tsgi behind nginx', () => {
  it('builds URLs with the public scheme, host and prefix; REMOTE_ADDR is the client', async () => {
    const answer = await request('/app/whoami?x=1');
    expect(answer.status).toBe(200);
    expect(json(answer)).toMatchObject({
      url: `https://localhost:${publicPort}/app/whoami?x=1`,
      applicationUrl: `https://localhost:${publicPort}/app`,
      scheme: 'https',
      host: `localhost:${publicPort}`,
      scriptName: '/app',
      remoteAddr: CLIENT_ADDRESS,
    });
    const moved = await request('/app/redirect');
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe(`https://localhost:${publicPort}/app/target`);
  });

  it('does not trust a spoofed X-Forwarded-For beyond nginx, nor forwarding headers sent around it', async () => {
    const spoofed = await request('/app/whoami', { headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Host': 'evil.example' } });
    expect(json(spoofed)).toMatchObject({ remoteAddr: CLIENT_ADDRESS, host: `localhost:${publicPort}` });
    // Straight to an instance, from an address that is not --forwarded-allow-ips.
    const around = await new Promise<Record<string, unknown>>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: direct, path: '/whoami', localAddress: '127.0.0.3', headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'https' }, agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
        })
        .on('error', reject);
    });
    expect(around).toMatchObject({ remoteAddr: '127.0.0.3', scheme: 'http', scriptName: '' });
  });

  it('carries nginx\'s $request_id to the answer, the JSON access log and the error log', async () => {
    const answer = await request('/app/whoami', { headers: { 'X-Request-Id': 'forged-by-client' } });
    const id = answer.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const failed = await request('/app/boom');
    expect(failed.status).toBe(500);
    const failedId = failed.headers['x-request-id'] as string;
    expect(failedId).toMatch(/^[0-9a-f]{32}$/);
    const out = () => instances.map((instance) => instance.out).join('');
    const accessLine = (wanted: string) =>
      out()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.request_id === wanted);
    for (let i = 0; i < 100 && !(accessLine(failedId) && out().includes(`request_id=${failedId}: Error: boom`)); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(accessLine(id)).toMatchObject({ remote_addr: CLIENT_ADDRESS, method: 'GET', url: '/whoami', status: 200 });
    expect(accessLine(failedId)).toMatchObject({ remote_addr: CLIENT_ADDRESS, url: '/boom', status: 500 });
    expect(out()).toContain(`[tsgi] GET /boom HTTP/1.1 500 request_id=${failedId}: Error: boom`);
    const nginxLog = readFileSync(join(prefix, 'logs/access.log'), 'utf8');
    expect(nginxLog).toContain(`${CLIENT_ADDRESS} "GET /app/whoami HTTP/1.1" 200 ${id}`);
    expect(nginxLog).toContain(`${CLIENT_ADDRESS} "GET /app/boom HTTP/1.1" 500 ${failedId}`);
  });

  it('balances between the two instances and their workers', async () => {
    // nginx keeps connections to each instance, and a connection stays with one worker:
    // requests in parallel open several, which the instance's primary spreads over its workers.
    const seen = new Map<string, Set<number>>();
    const total = () => [...seen.values()].reduce((n, pids) => n + pids.size, 0);
    for (let round = 0; round < 10 && total() < 4; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => request('/app/slow?ms=50')));
      for (const answer of answers) {
        const { instance, pid } = json(answer) as { instance: string; pid: number };
        seen.set(instance, (seen.get(instance) ?? new Set()).add(pid));
      }
    }
    expect([...seen.keys()].sort()).toEqual(['A', 'B']);
    for (const pids of seen.values()) expect(pids.size).toBe(2);
  });

  it('streams a 1 GiB upload and a 1 GiB download through nginx with bounded memory', { timeout: 120_000 }, async () => {
    const up = await request('/app/upload', { method: 'POST', upload: GIB, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(GIB) } });
    const { received, pid } = json(up) as { received: number; pid: number };
    expect(received).toBe(GIB);
    const upPeak = peakMemory(pid);
    const down = await request(`/app/download?bytes=${GIB}`, { count: true });
    expect(down.status).toBe(200);
    expect(down.bytes).toBe(GIB);
    const downPeak = peakMemory(Number(down.headers['x-pid']));
    console.log(`[nginx] 1 GiB up: worker peak RSS ${(upPeak / 2 ** 20).toFixed(0)} MiB; 1 GiB down: ${(downPeak / 2 ** 20).toFixed(0)} MiB`);
    expect(upPeak).toBeLessThan(PEAK_LIMIT);
    expect(downPeak).toBeLessThan(PEAK_LIMIT);
  });

  it('maps the legacy service behind /legacy/ to the public URL', async (context) => {
    const probe = await request('/app/legacy/page');
    if (probe.status === 404 && probe.body.toString() === 'not here\n') {
      context.skip('tsgi/proxy is not in this tree');
    }
    expect(probe.body.toString()).toBe('legacy page');
    const moved = await request('/app/legacy/old');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe(`https://localhost:${publicPort}/app/legacy/new`);
  });

  it('keeps both instances in the upstream after a request that kills the worker it reaches', { timeout: 30_000 }, async () => {
    // nginx retries the GET on the other instance, where it kills a worker too; with nginx's
    // default max_fails=1 each instance was then taken out of the upstream for 10 s, and every
    // request answered 502 (no live upstreams) while the other worker of each served nothing.
    expect((await request('/app/crash')).status).toBe(502);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await request('/app/whoami')).status);
    expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
  });

  it('loses no POST on nginx\'s kept-alive upstream connections while --limit-max-requests keeps replacing workers', { timeout: 90_000 }, async () => {
    // A stopping worker closed its idle upstream connections at once, and a POST nginx sent
    // on one at that moment was reset: 502 (nginx retries only idempotent requests). About 1
    // in 800 before; now a stopping worker leaves them to expire.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const post = () =>
      new Promise<string>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: churnPort, path: '/upload', method: 'POST', agent, headers: { 'Content-Type': 'text/plain' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(res.statusCode === 200 ? `200 ${(JSON.parse(Buffer.concat(chunks).toString()) as { pid: number }).pid}` : String(res.statusCode)));
        });
        req.on('error', (error) => resolve(error.message));
        req.end('hello');
      });
    const outcomes: string[] = [];
    // For 10 s: a replacement takes about a second (the successor loads), so several happen.
    const end = Date.now() + 10_000;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (Date.now() < end) outcomes.push(await post());
    }));
    agent.destroy();
    expect(outcomes.filter((outcome) => !outcome.startsWith('200 '))).toEqual([]);
    const pids = new Set(outcomes.map((outcome) => outcome.slice(4)));
    expect(pids.size).toBeGreaterThan(3);
    console.log(`[nginx] ${outcomes.length} POSTs over ${pids.size} workers replaced every 25 requests, none failed`);
  });

  it('loses no request when one instance stops with SIGTERM under load', { timeout: 60_000 }, async () => {
    const outcomes: string[] = [];
    let running = true;
    const loop = async (n: number) => {
      for (let i = 0; running; i++) {
        const path = (i + n) % 3 === 0 ? '/app/slow?ms=300' : '/app/whoami';
        try {
          const answer = await request(path);
          outcomes.push(answer.status === 200 ? `200 ${json(answer).instance}` : `${answer.status}`);
        } catch (error) {
          outcomes.push((error as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, n) => loop(n));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [stopping] = instances;
    process.kill(stopping!.child.pid!, 'SIGTERM');
    expect(await stopping!.exited).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    running = false;
    await Promise.all(loops);
    const failed = outcomes.filter((outcome) => !outcome.startsWith('200 '));
    expect(failed).toEqual([]);
    expect(outcomes.filter((outcome) => outcome === '200 A').length).toBeGreaterThan(0);
    expect(outcomes.slice(-20).every((outcome) => outcome === '200 B')).toBe(true);
    console.log(`[nginx] ${outcomes.length} requests while instance A stopped, none failed`);
    expect(existsSync(join(prefix, 'logs/error.log'))).toBe(true);
  });
});
