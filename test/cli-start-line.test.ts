/**
 * `tsgi serve`'s start line and flag mistakes when an operator combines this release's flags:
 * the line says when client certificates are asked for (one process and `--workers`), and
 * `--uds-mode` next to `--fd` names the real conflict. Few processes, each stopped at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START_LINE, cli, finish, servingUrl } from './cli-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let dir: string;
let app: string;
let server: TestCertificate;
let authority: TestCertificate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-start-line-'));
  [server, authority] = await Promise.all([makeCertificate(), makeCertificate({ ca: true })]);
  app = join(dir, 'app.mjs');
  writeFileSync(app, `export const app = (environ, start) => { start('204 No Content', []); return []; };\n`);
});
afterAll(() => {
  server.remove();
  authority.remove();
  rmSync(dir, { recursive: true, force: true });
});

const tls = () => ['--ssl-certfile', server.certFile, '--ssl-keyfile', server.keyFile, '--ssl-ca-certs', authority.certFile];

describe('tsgi serve: what the start line says is on', () => {
  it('names client certificates, required or optional, in one process and under --workers; not without them', async () => {
    const runs = [
      cli(['serve', app, '--port', '0', ...tls(), '--ssl-cert-reqs', 'required']),
      cli(['serve', app, '--port', '0', ...tls(), '--ssl-cert-reqs', 'optional', '--workers', '2']),
      cli(['serve', app, '--port', '0', '--ssl-certfile', server.certFile, '--ssl-keyfile', server.keyFile]),
    ];
    await Promise.all(runs.map((run) => servingUrl(run, 20_000)));
    const details = runs.map((run) => START_LINE.exec(run.out.stdout)![2]);
    expect(details[0]).toMatch(/^HTTP\/1\.1, client certificates required, 1 process, /);
    expect(details[1]).toMatch(/^HTTP\/1\.1, client certificates optional, 2 workers, /);
    expect(details[2]).not.toMatch(/client certificates/);
  }, 40_000);

  it('says TLS is on when the address cannot (--uds with --ssl-certfile): unix:… (HTTP/1.1 over TLS, …); http:// and https:// need not', async () => {
    const secure = cli(['serve', app, '--uds', join(dir, 'tls.sock'), '--ssl-certfile', server.certFile, '--ssl-keyfile', server.keyFile, '--workers', '2']);
    const plain = cli(['serve', app, '--uds', join(dir, 'plain.sock')]);
    await Promise.all([servingUrl(secure, 20_000), servingUrl(plain, 20_000)]);
    expect(START_LINE.exec(secure.out.stdout)!.slice(1, 3)).toEqual([`unix:${join(dir, 'tls.sock')}`, expect.stringMatching(/^HTTP\/1\.1 over TLS, 2 workers, /)]);
    expect(START_LINE.exec(plain.out.stdout)![2]).toMatch(/^HTTP\/1\.1, 1 process, /);
  }, 40_000);

  it('--uds does not read $PORT, so a $PORT meant for something else does not stop it', async () => {
    const run = cli(['serve', app, '--uds', join(dir, 'port.sock')], { PORT: 'http' });
    expect(await servingUrl(run)).toBe(`unix:${join(dir, 'port.sock')}`);
  });

  it('without --proxy-headers $FORWARDED_ALLOW_IPS is not read, so one meant for something else does not stop it', async () => {
    // Space-separated, as a config of another server may write it: no list --forwarded-allow-ips takes.
    const run = cli(['serve', app, '--port', '0'], { FORWARDED_ALLOW_IPS: '10.0.0.1 10.0.0.2' });
    expect(await servingUrl(run)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses --ssl-cert-reqs, --ssl-ca-certs with --h2c at once, saying why, not as missing --ssl-certfile: exit 2', async () => {
    const runs = await Promise.all([
      finish(['serve', app, '--h2c', '--ssl-cert-reqs', 'required']),
      finish(['serve', app, '--h2c', '--ssl-ca-certs', authority.certFile, '--ssl-cert-reqs', 'optional']),
    ]);
    expect(runs.map(({ code }) => code)).toEqual([2, 2]);
    expect(runs[0]!.stderr).toBe(
      'tsgi: --ssl-cert-reqs and --h2c cannot be combined: client certificates are asked for in the TLS handshake, and h2c is cleartext (HTTP/2 over TLS is --http2 with --ssl-certfile and --ssl-keyfile)\n',
    );
    expect(runs[1]!.stderr).toMatch(/^tsgi: --ssl-ca-certs and --h2c cannot be combined: /);
  });

  it('refuses --uds-mode with --fd, saying who sets that socket\'s mode: exit 2', async () => {
    const { code, stderr } = await finish(['serve', app, '--fd', '3', '--uds-mode', '660']);
    expect(code).toBe(2);
    expect(stderr).toBe("tsgi: --uds-mode and --fd cannot be combined: the socket of --fd keeps the mode its creator gave it (systemd's SocketMode=)\n");
  });
});
