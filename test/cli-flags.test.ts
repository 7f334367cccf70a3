/**
 * The flags of `tsgi serve`, through the real process: bad values, `--help`, and each flag's
 * effect over a real socket (timeouts, limits, proxy headers, root path, logging, TLS,
 * HTTP/2, a Unix socket, the request limit, the terminal banner).
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli, finish, get, onTerminal, servingUrl, waitFor } from './cli-helpers.ts';
import { getFirstChunk, parseRaw, rawExchange } from './node-helpers.ts';
import { type TestCertificate, h2request, makeCertificate } from './tls-helpers.ts';

let dir: string;
/** systemd-socket-activate, to hand a socket over as systemd does; the tests using it are skipped without it. */
const socketActivate = ['/usr/bin/systemd-socket-activate', '/bin/systemd-socket-activate'].find((file) => existsSync(file));
let certificate: TestCertificate;
/**
 * A raw app answering the environ keys tests look at; /slow waits, /body reads the body,
 * /events is an event stream that never ends.
 */
let envApp: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-flags-'));
  certificate = await makeCertificate();
  envApp = join(dir, 'env.mjs');
  writeFileSync(
    envApp,
    `export const app = async (environ, start) => {
  if (environ.PATH_INFO === '/slow') await new Promise((resolve) => setTimeout(resolve, Number(environ.QUERY_STRING || 1000)));
  let read = 0;
  if (environ.PATH_INFO === '/body') for await (const chunk of environ['tsgi.input']) read += chunk.byteLength;
  if (environ.PATH_INFO === '/fail') throw new Error('failing on purpose');
  if (environ.PATH_INFO === '/events') {
    start('200 OK', [['Content-Type', 'text/event-stream']]);
    return (async function* () {
      for (;;) {
        yield new TextEncoder().encode('data: tick\\n\\n');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  }
  start('200 OK', [['Content-Type', 'application/json']]);
  const keys = ['REMOTE_ADDR', 'SCRIPT_NAME', 'PATH_INFO', 'HTTP_HOST', 'SERVER_PROTOCOL', 'tsgi.url_scheme'];
  return [new TextEncoder().encode(JSON.stringify({ ...Object.fromEntries(keys.map((k) => [k, environ[k]])), read, pid: process.pid }))];
};
`,
  );
});

afterAll(() => {
  certificate.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A request with a body on a fresh connection. */
function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('tsgi serve flag values', () => {
  it('a bad value, a missing companion or a conflict: one line on stderr, exit 2', async () => {
    const base = ['serve', envApp];
    const cases: Array<[string[], RegExp]> = [
      [['--timeout-keep-alive', 'abc'], /^invalid --timeout-keep-alive 'abc': expected seconds/],
      [['--timeout-request', '0'], /^invalid --timeout-request '0'/],
      [['--timeout-graceful-shutdown=-1'], /^invalid --timeout-graceful-shutdown '-1'/],
      // Past Node's longest timer (2^31-1 ms), which would fire at once.
      [['--timeout-graceful-shutdown', '2147484'], /^invalid --timeout-graceful-shutdown '2147484': expected seconds, a number >= 0 and at most 2147483 \(24\.8 days\)\n/],
      [['--timeout-worker-healthcheck', 'soon'], /^invalid --timeout-worker-healthcheck 'soon'/],
      // Finer than the heartbeat can be judged: every worker killed as soon as it listens, in a loop.
      [['--timeout-worker-healthcheck', '0.5', '--workers', '2'], /^invalid --timeout-worker-healthcheck '0\.5': expected 0 \(no check\) or seconds from 1 to 2147483\n/],
      [['--max-body-size', '10M'], /^invalid --max-body-size '10M': expected a size/],
      [['--limit-concurrency', '0'], /^invalid --limit-concurrency '0'/],
      [['--limit-max-requests', 'many'], /^invalid --limit-max-requests 'many'/],
      [['--limit-max-requests-jitter', '5'], /^--limit-max-requests-jitter needs --limit-max-requests/],
      [['--limit-max-requests', '5', '--limit-max-requests-jitter', '-1'], /^--limit-max-requests-jitter needs a value/],
      [['--log-level', 'loud'], /^invalid --log-level 'loud': expected critical, error/],
      [['--access-log-format', 'xml'], /^invalid --access-log-format 'xml': expected combined, common, json\n/],
      [['--access-log-format', 'json', '--no-access-log'], /^--access-log-format and --no-access-log cannot be combined\n/],
      [['--access-log-redact', 'token,,code'], /^invalid --access-log-redact 'token,,code': expected query parameter names separated by commas, as token,code\n/],
      [['--access-log-redact', 'code', '--access-log-redact', 'a=b'], /^invalid --access-log-redact 'a=b'/],
      [['--proxy-headers', '--forwarded-allow-ips', '300.1.1.1'], /^invalid --forwarded-allow-ips '300\.1\.1\.1'/],
      [['--forwarded-allow-ips', '10.0.0.1'], /^--forwarded-allow-ips needs --proxy-headers/],
      [['--forwarded-host'], /^--forwarded-host needs --proxy-headers\n/],
      [['--forwarded-prefix'], /^--forwarded-prefix needs --proxy-headers\n/],
      [['--no-proxy-headers', '--forwarded-host'], /^--forwarded-host needs --proxy-headers\n/],
      [['--no-proxy-headers', '--forwarded-prefix'], /^--forwarded-prefix needs --proxy-headers\n/],
      [['--root-path', 'api'], /^invalid --root-path 'api'/],
      [['--root-path', '/a/../b'], /^invalid --root-path/],
      [['--trusted-hosts', 'example.com:80'], /^invalid --trusted-hosts 'example\.com:80'/],
      [['--trusted-hosts', 'http://example.com'], /^invalid --trusted-hosts/],
      [['--trusted-hosts', 'example.com,*.example.com'], /^invalid --trusted-hosts 'example\.com,\*\.example\.com': expected host names such as example\.com or \.example\.com, separated by commas \(write "\.example\.com" for example\.com and its subdomains\)\n/],
      [['--http2'], /^--http2 needs --ssl-certfile and --ssl-keyfile/],
      [['--ssl-certfile', certificate.certFile], /^--ssl-certfile needs --ssl-keyfile/],
      [['--h2c', '--ssl-certfile', certificate.certFile, '--ssl-keyfile', certificate.keyFile], /^--h2c and --ssl-certfile cannot be combined/],
      [['--ssl-certfile', join(dir, 'none.pem'), '--ssl-keyfile', certificate.keyFile], /^cannot read --ssl-certfile '.*none\.pem' \(ENOENT\)/],
      [['--ssl-certfile', envApp, '--ssl-keyfile', certificate.keyFile], /^--ssl-certfile '.*env\.mjs' holds no PEM certificate \(-----BEGIN CERTIFICATE-----\)\n$/],
      [['--ssl-certfile', certificate.certFile, '--ssl-keyfile', envApp], /^--ssl-keyfile '.*env\.mjs' holds no PEM private key \(-----BEGIN PRIVATE KEY-----\)\n$/],
      [['--uds', join(dir, 's.sock'), '--port', '0'], /^--uds and --port cannot be combined/],
      [['--uds', envApp], /^--uds '.*env\.mjs' exists and is not a socket/],
      [['--reload', '--workers', '2'], /^--reload and --workers cannot be combined/],
      [['--reload-dir', dir], /^--reload-dir needs --reload/],
      [['--reload', '--reload-dir', join(dir, 'nope')], /^invalid --reload-dir '.*nope': expected a folder/],
      [['--no-such-flag'], /^unknown option '--no-such-flag' \(tsgi serve --help lists them\)\n/],
      // Only --[no-]proxy-headers and --[no-]access-log have a --no- form: another is no flag,
      // not one taken as given (refused as conflicting with --workers, or needing --ssl-certfile).
      [['--no-reload', '--workers', '2'], /^unknown option '--no-reload' \(tsgi serve --help lists them\)\n/],
      [['--no-http2'], /^unknown option '--no-http2' \(tsgi serve --help lists them\)\n/],
      [['--no-forwarded-host'], /^unknown option '--no-forwarded-host' \(tsgi serve --help lists them\)\n/],
      [['--workers', '-2'], /^--workers needs a value; one starting with '-' is written --workers=<value>\n/],
      // The last flag without its value: named as the one before, not in parseArgs' words.
      [['--uds'], /^--uds needs a value\n/],
      [['--port', '0', '-w'], /^--workers needs a value\n/],
      // A typo (a zero too many) would fork thousands of processes: refused before any fork.
      [['--workers', '10000'], /^invalid --workers '10000': expected a whole number from 1 to 512\n/],
      [['--workers', '513'], /^invalid --workers '513': expected a whole number from 1 to 512\n/],
      [['--port=-1'], /^invalid --port '-1': expected a port number/],
      [['--fd', '3', '--port', '8000'], /^--fd and --port cannot be combined/],
      [['--fd', '3', '--reload'], /^--fd and --reload cannot be combined/],
      [['--fd', 'three'], /^invalid --fd 'three': expected a whole number >= 0/],
      [['--upgrade', 'ws.handle'], /^--upgrade names an export of the module \(a name like 'upgrade'\): got 'ws\.handle'/],
      [['--upgrade', 'app'], /^--upgrade app names the export served as the app/],
    ];
    // A free port unless the case names the address itself.
    const address = (args: string[]) => (args.some((arg) => arg === '--uds' || arg === '--fd' || arg.startsWith('--port')) ? [] : ['--port', '0']);
    const results = await Promise.all(cases.map(([args]) => finish([...base, ...args, ...address(args)])));
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      const label = args.join(' ');
      expect(result.code, label).toBe(2);
      expect(result.stderr, label).toMatch(/^tsgi: [^\n]+\n$/);
      expect(result.stderr.slice('tsgi: '.length), label).toMatch(message);
    });
  });

  it('an encrypted --ssl-keyfile without its passphrase, or with a wrong one: one line that says so, exit 2', async () => {
    const encrypted = join(dir, 'encrypted.key');
    writeFileSync(encrypted, createPrivateKey(certificate.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' }));
    const base = ['serve', envApp, '--port', '0', '--ssl-certfile', certificate.certFile, '--ssl-keyfile', encrypted];
    const right = cli([...base, '--ssl-keyfile-password', 'right']);
    const [missing, wrong] = await Promise.all([finish(base), finish([...base, '--ssl-keyfile-password', 'wrong'])]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`tsgi: --ssl-keyfile '${encrypted}' is encrypted: give its passphrase with --ssl-keyfile-password, or $TSGI_SSL_KEYFILE_PASSWORD out of the command line\n`);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`tsgi: --ssl-keyfile '${encrypted}' does not decrypt with --ssl-keyfile-password (a wrong passphrase)\n`);
    expect(await servingUrl(right)).toMatch(/^https:/);
  });

  it('$TSGI_SSL_KEYFILE_PASSWORD gives the passphrase out of the command line that ps shows, to every worker', async () => {
    const encrypted = join(dir, 'encrypted-env.key');
    writeFileSync(encrypted, createPrivateKey(certificate.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' }));
    const base = ['serve', envApp, '--port', '0', '--ssl-certfile', certificate.certFile, '--ssl-keyfile', encrypted];
    const envFile = join(dir, 'tls.env');
    writeFileSync(envFile, 'TSGI_SSL_KEYFILE_PASSWORD=wrong\n');
    const [wrong, fromFile] = await Promise.all([finish(base, { TSGI_SSL_KEYFILE_PASSWORD: 'wrong' }), finish([...base, '--env-file', envFile])]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`tsgi: --ssl-keyfile '${encrypted}' does not decrypt with $TSGI_SSL_KEYFILE_PASSWORD (a wrong passphrase)\n`);
    expect(fromFile.stderr).toBe(`tsgi: --ssl-keyfile '${encrypted}' does not decrypt with $TSGI_SSL_KEYFILE_PASSWORD (set by --env-file ${envFile}) (a wrong passphrase)\n`);
    // The flag wins over the variable; the variable alone serves, in each worker too.
    const flag = cli([...base, '--ssl-keyfile-password', 'right'], { TSGI_SSL_KEYFILE_PASSWORD: 'wrong' });
    const right = cli([...base, '--workers', '2'], { TSGI_SSL_KEYFILE_PASSWORD: 'right' });
    expect(await servingUrl(flag)).toMatch(/^https:/);
    expect(await servingUrl(right)).toMatch(/^https:/);
    expect(right.out.stdout).toMatch(/2 workers/);
  });

  it('$TSGI_SSL_KEYFILE_PASSWORD is out of the app\'s environment (its child processes inherit none), in one process, each worker, one started by SIGHUP, a --reload child', { timeout: 30_000 }, async () => {
    const encrypted = join(dir, 'encrypted-hidden.key');
    writeFileSync(encrypted, createPrivateKey(certificate.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' }));
    const app = join(dir, 'passphrase-app.mjs');
    writeFileSync(
      app,
      `process.stdout.write(\`loaded: passphrase \${process.env.TSGI_SSL_KEYFILE_PASSWORD ?? 'absent'}\\n\`);
export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(process.env.TSGI_SSL_KEYFILE_PASSWORD ?? 'absent')];
};
`,
    );
    const base = ['serve', app, '--port', '0', '--ssl-certfile', certificate.certFile, '--ssl-keyfile', encrypted, '--no-access-log'];
    for (const extra of [[], ['--workers', '1'], ['--reload']]) {
      const run = cli([...base, ...extra], { TSGI_SSL_KEYFILE_PASSWORD: 'right' });
      const url = await servingUrl(run);
      expect(url).toMatch(/^https:/);
      if (extra[0] === '--workers') {
        // A worker started later reads the passphrase too: the primary keeps it.
        run.child.kill('SIGHUP');
        await waitFor(() => /Replaced 1 worker/.test(run.out.stdout + run.out.stderr), () => run.out.stdout + run.out.stderr, 20_000);
      }
      const loaded = run.out.stdout.split('\n').filter((line) => line.startsWith('loaded: '));
      expect(loaded.length, extra.join(' ')).toBe(extra[0] === '--workers' ? 2 : 1);
      expect(new Set(loaded), extra.join(' ')).toEqual(new Set(['loaded: passphrase absent']));
      run.child.kill('SIGTERM');
      expect((await run.exited).code).toBe(0);
    }
  });

  it('TLS files swapped, a chain out of order, a DER certificate, a key of another certificate: one line that names the mistake, exit 2', async () => {
    const other = await makeCertificate();
    const rsa = await makeCertificate({ keyType: 'rsa' });
    try {
      const write = (name: string, content: string | Uint8Array) => {
        writeFileSync(join(dir, name), content);
        return join(dir, name);
      };
      const outOfOrder = write('out-of-order.pem', `${other.cert.trimEnd()}\n${certificate.cert}`);
      const der = write('cert.der', new X509Certificate(certificate.cert).raw);
      const rsaFirst = write('rsa-first.pem', `${rsa.cert.trimEnd()}\n${certificate.cert}`);
      // `cat cert.pem chain.pem` of a cert.pem without a newline at its end.
      const joined = write('joined.pem', `${certificate.cert.trimEnd()}${other.cert}`);
      const { certFile, keyFile } = certificate;
      const cases: Array<[string, string, string]> = [
        [keyFile, certFile, `--ssl-certfile '${keyFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----) but a private key: are --ssl-certfile and --ssl-keyfile swapped?`],
        [certFile, certFile, `--ssl-keyfile '${certFile}' holds no PEM private key (-----BEGIN PRIVATE KEY-----) but a certificate: are --ssl-certfile and --ssl-keyfile swapped?`],
        [der, keyFile, `--ssl-certfile '${der}' holds no PEM certificate (-----BEGIN CERTIFICATE-----): convert a DER one with openssl x509 -inform der -in '${der}' -out cert.pem`],
        [outOfOrder, keyFile, `--ssl-certfile '${outOfOrder}': the certificate of --ssl-keyfile is its certificate 2, and must come first (the server's certificate, then the intermediates)`],
        [other.certFile, keyFile, `--ssl-keyfile '${keyFile}' is not the key of any certificate in --ssl-certfile '${other.certFile}' (OpenSSL: key values mismatch)`],
        // OpenSSL checks a key only against a certificate of its own type: these were served,
        // and every handshake failed (no_suitable_signature_algorithm), without a log line.
        [rsa.certFile, keyFile, `--ssl-keyfile '${keyFile}' is not the key of any certificate in --ssl-certfile '${rsa.certFile}' (an EC key, for an RSA certificate)`],
        [rsaFirst, keyFile, `--ssl-certfile '${rsaFirst}': the certificate of --ssl-keyfile is its certificate 2, and must come first (the server's certificate, then the intermediates)`],
        [joined, keyFile, `--ssl-certfile '${joined}' has an -----END CERTIFICATE----- line that runs into the next -----BEGIN (files joined by cat, one without a newline at its end): put a line break between them`],
      ];
      const results = await Promise.all(cases.map(([cert, key]) => finish(['serve', envApp, '--port', '0', '--ssl-certfile', cert, '--ssl-keyfile', key])));
      results.forEach((result, i) => {
        expect(result.code, cases[i]![2]).toBe(2);
        expect(result.stderr).toBe(`tsgi: ${cases[i]![2]}\n`);
      });
    } finally {
      other.remove();
      rsa.remove();
    }
  });

  it('--env-file naming no readable file stops before serving, with one line naming it', async () => {
    // Node 22–24 reads an `--env-file` argument even after the script, and exits 9 with
    // `node: <file>: not found` before tsgi runs; a Node that leaves it to the script gets tsgi's
    // own line and exit 2.
    const missing = join(dir, 'none.env');
    const result = await finish(['serve', envApp, '--port', '0', '--env-file', missing]);
    expect([2, 9]).toContain(result.code);
    expect(result.stderr).toMatch(/^(\S*node|tsgi): .*none\.env.*(not found|no such file)\n$/);
    expect(result.stdout).toBe('');
  });

  it('--env-file with an escaped quote in a double-quoted value stops with one line, never a value cut short', async () => {
    // Node's parser ends `"s3cr\\"3t"` at the backslash (`s3cr\\`): a password silently cut.
    const envFile = join(dir, 'escaped-quote.env');
    writeFileSync(envFile, 'OK=1\nexport DB_PASSWORD="s3cr\\"3t"\n');
    const result = await finish(['serve', envApp, '--port', '0', '--env-file', envFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tsgi: --env-file '${envFile}': DB_PASSWORD holds \\" in double quotes, where Node's parser cuts the value short: write the value in single quotes, where " needs no escape\n`);
    // The value, a secret maybe, is not printed.
    expect(result.stderr).not.toContain('s3cr');
    expect(result.stdout).toBe('');
  });

  it('--env-file with a byte order mark: an escaped quote in the first line\'s double-quoted value stops too, never cut short', async () => {
    // The mark is left out before parsing: the line setting the value must be found past it.
    const envFile = join(dir, 'escaped-quote-bom.env');
    writeFileSync(envFile, '\uFEFFDB_PASSWORD="s3cr\\"3t"\r\nOK=1\r\n');
    const result = await finish(['serve', envApp, '--port', '0', '--env-file', envFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tsgi: --env-file '${envFile}': DB_PASSWORD holds \\" in double quotes, where Node's parser cuts the value short: write the value in single quotes, where " needs no escape\n`);
    expect(result.stdout).toBe('');
  });

  it('--env-file with an escaped quote in a single-quoted value stops with one line too, never a value cut short', async () => {
    // Node's parser ends `'s3cr\'3t'` at the backslash (`s3cr\`), as it does `\"` in double quotes.
    const envFile = join(dir, 'escaped-single-quote.env');
    writeFileSync(envFile, "OK=1\nDB_PASSWORD='s3cr\\'3t'\n");
    const result = await finish(['serve', envApp, '--port', '0', '--env-file', envFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tsgi: --env-file '${envFile}': DB_PASSWORD holds \\' in single quotes, where Node's parser cuts the value short: write the value in double quotes, where ' needs no escape\n`);
    expect(result.stderr).not.toContain('s3cr');
    expect(result.stdout).toBe('');
  });

  it('--env-file serves a double-quoted value ending in an escaped backslash ("C:\\logs\\"), which no parser cuts short', async () => {
    // Node's parser and dotenv keep `"C:\\logs\\"` whole (its closing quote is the first one
    // after the value): no \" in it, nothing to refuse.
    const app = join(dir, 'env-file-backslash-app.mjs');
    writeFileSync(
      app,
      `export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ LOG_DIR: process.env.LOG_DIR, NEXT: process.env.NEXT }))];
};
`,
    );
    const envFile = join(dir, 'escaped-backslash.env');
    writeFileSync(envFile, 'LOG_DIR="C:\\\\logs\\\\" # the logs\nNEXT=1\nPORT=0\n');
    const run = cli(['serve', app, '--env-file', envFile]);
    const url = await servingUrl(run);
    expect(JSON.parse((await get(`${url}/`)).body)).toEqual({ LOG_DIR: 'C:\\\\logs\\\\', NEXT: '1' });
  });

  it('an invalid value from --env-file: the line names the file, not the environment alone', async () => {
    const envFile = join(dir, 'bad-values.env');
    writeFileSync(envFile, 'PORT=abc\n');
    const result = await finish(['serve', envApp, '--env-file', envFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tsgi: invalid $PORT (set by --env-file ${envFile}) 'abc': expected a port number 0-65535\n`);
    writeFileSync(envFile, 'WEB_CONCURRENCY=9999\nFORWARDED_ALLOW_IPS=*\n');
    const workers = await finish(['serve', envApp, '--port', '0', '--env-file', envFile]);
    expect(workers.stderr).toBe(`tsgi: invalid $WEB_CONCURRENCY (set by --env-file ${envFile}) '9999': expected a whole number from 1 to 512\n`);
    // One the environment sets is the environment's, the file's value ignored.
    const shell = await finish(['serve', envApp, '--port', '0', '--env-file', envFile], { WEB_CONCURRENCY: 'lots' });
    expect(shell.stderr).toBe("tsgi: invalid $WEB_CONCURRENCY 'lots': expected a whole number from 1 to 512\n");
  });

  it('an invalid $WEB_CONCURRENCY or $FORWARDED_ALLOW_IPS: one line, exit 2', async () => {
    const [workers, many, allow] = await Promise.all([
      finish(['serve', envApp, '--port', '0'], { WEB_CONCURRENCY: 'lots' }),
      finish(['serve', envApp, '--port', '0'], { WEB_CONCURRENCY: '5000' }),
      finish(['serve', envApp, '--port', '0', '--proxy-headers'], { FORWARDED_ALLOW_IPS: 'nonsense' }),
    ]);
    expect(workers).toMatchObject({ code: 2, stderr: "tsgi: invalid $WEB_CONCURRENCY 'lots': expected a whole number from 1 to 512\n" });
    expect(many).toMatchObject({ code: 2, stderr: "tsgi: invalid $WEB_CONCURRENCY '5000': expected a whole number from 1 to 512\n" });
    expect(allow.code).toBe(2);
    expect(allow.stderr).toMatch(/^tsgi: invalid \$FORWARDED_ALLOW_IPS 'nonsense'/);
  });

  it('--help lists every flag with its default', async () => {
    const { code, stdout } = await finish(['serve', '--help']);
    expect(code).toBe(0);
    const flags = [
      'host', 'port', 'uds', 'uds-mode', 'ssl-certfile', 'ssl-keyfile', 'ssl-keyfile-password', 'ssl-ca-certs', 'ssl-cert-reqs', 'http2', 'h2c', '[no-]proxy-headers',
      'forwarded-allow-ips', 'forwarded-host', 'forwarded-prefix', 'root-path', 'trusted-hosts', 'timeout-keep-alive', 'timeout-headers', 'timeout-request', 'timeout-body',
      'timeout-graceful-shutdown', 'limit-concurrency', 'limit-max-requests', 'limit-max-requests-jitter', 'max-body-size', 'workers', 'timeout-worker-healthcheck', 'reload',
      'reload-dir', '[no-]access-log', 'access-log-format', 'access-log-redact', 'log-level',
    ];
    for (const flag of flags) {
      const at = stdout.indexOf(`--${flag}`);
      expect(at, flag).toBeGreaterThan(-1);
      // Its default follows on the same line or the next one.
      expect(stdout.slice(at).split('\n').slice(0, 2).join('\n'), flag).toMatch(/\(default: [^)]+\)/);
    }
  });
});

describe('tsgi serve flags at work', () => {
  it('--timeout-keep-alive and --timeout-headers close idle and slow connections; --max-body-size answers 413', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--timeout-keep-alive', '0.3', '--timeout-headers', '0.5', '--max-body-size', '1kb']);
    const url = new URL(await servingUrl(run));
    const port = Number(url.port);
    // An idle keep-alive connection after one request.
    const idle = net.connect(port, '127.0.0.1');
    idle.on('error', () => {});
    idle.resume();
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const t0 = Date.now();
    await new Promise((resolve) => idle.once('close', resolve));
    const idleFor = Date.now() - t0;
    // A head that never ends.
    const slow = net.connect(port, '127.0.0.1');
    let answer = '';
    slow.setEncoding('latin1').on('data', (text: string) => (answer += text));
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => slow.once('close', resolve));
    expect(idleFor).toBeLessThan(2_500);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await post(`${url.origin}/body`, 'x'.repeat(2048))).status).toBe(413);
    expect(JSON.parse((await post(`${url.origin}/body`, 'x'.repeat(1024))).body).read).toBe(1024);
  });

  it('--timeout-body answers 408 to a body that stalls while the app reads it, and logs it as 408', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--timeout-body', '0.3']);
    const url = new URL(await servingUrl(run));
    const socket = net.connect(Number(url.port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1').on('data', (text: string) => (answer += text));
    socket.on('error', () => {});
    // Half the body, then nothing: the raw app's for-await over tsgi.input waits for the rest.
    socket.write('POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
    const closed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 5_000);
      socket.once('close', () => resolve(true));
      socket.once('close', () => clearTimeout(giveUp));
    });
    socket.destroy();
    expect(closed).toBe(true);
    expect(parseRaw(answer).status).toBe(408);
    await waitFor(() => / 408 /.test(run.out.stdout), () => run.out.stdout, 5_000);
    expect(run.out.stderr).not.toMatch(/Error/);
  });

  it('--limit-concurrency answers 503 past it; --timeout-graceful-shutdown cuts a slow request at SIGTERM', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--limit-concurrency', '1', '--timeout-graceful-shutdown', '0.5']);
    const url = await servingUrl(run);
    const slow = get(`${url}/slow?20000`, {}, 30_000).catch((error: Error) => error);
    // Once the slow request is in flight, the next one is refused.
    let status = 0;
    for (let i = 0; i < 200 && status !== 503; i++) status = (await get(`${url}/`)).status;
    expect(status).toBe(503);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await slow).toBeInstanceOf(Error);
    expect(run.out.stdout).toMatch(/^Stopping on SIGTERM: requests in flight get 0\.5 s$/m);
  });

  it('SIGTERM ends an event stream cleanly at once, instead of waiting --timeout-graceful-shutdown (30 s) for it', async () => {
    const run = cli(['serve', envApp, '--port', '0']);
    const url = await servingUrl(run);
    const { head, body } = await getFirstChunk(`${url}/events`);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await body).toMatch(/^(data: tick\n\n)+$/);
    expect(head.complete).toBe(true);
  });

  it('--proxy-headers trusts X-Forwarded-* from --forwarded-allow-ips only; --root-path sets SCRIPT_NAME', async () => {
    const trusted = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--forwarded-host', '--forwarded-prefix', '--root-path', '/api/']);
    const untrusted = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--forwarded-host', '--forwarded-prefix', '--forwarded-allow-ips', '10.0.0.1,192.168.0.0/16']);
    const off = cli(['serve', envApp, '--port', '0']);
    const forwarded = {
      'X-Forwarded-For': '6.6.6.6, 203.0.113.9',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'www.example.com',
      'X-Forwarded-Prefix': '/shop',
    };
    const seen = await Promise.all(
      [trusted, untrusted, off].map(async (run) => JSON.parse((await get(`${await servingUrl(run)}/x`, forwarded)).body)),
    );
    expect(seen[0]).toMatchObject({ REMOTE_ADDR: '203.0.113.9', 'tsgi.url_scheme': 'https', HTTP_HOST: 'www.example.com', SCRIPT_NAME: '/shop/api' });
    for (const environ of seen.slice(1)) {
      expect(environ).toMatchObject({ REMOTE_ADDR: '127.0.0.1', 'tsgi.url_scheme': 'http', SCRIPT_NAME: '' });
      expect(environ.HTTP_HOST).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    // The access log shows the client, not the proxy.
    await waitFor(() => trusted.out.stdout.includes('"GET /x HTTP/1.1"'), () => trusted.out.stdout);
    expect(trusted.out.stdout).toMatch(/^203\.0\.113\.9 - - \[/m);
  });

  it('--proxy-headers alone takes X-Forwarded-For and -Proto, not a client\'s own X-Forwarded-Host or -Prefix; --forwarded-host and --forwarded-prefix take them', async () => {
    // A Request app, as a password-reset link is built: req.url and req.host from the environ.
    const urlApp = join(dir, 'url.mjs');
    const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
    writeFileSync(
      urlApp,
      `import { Request } from ${JSON.stringify(index)};\n` +
        `export const app = (environ, start) => {\n  const req = new Request(environ);\n` +
        `  start('200 OK', [['Content-Type', 'application/json']]);\n` +
        `  return [new TextEncoder().encode(JSON.stringify({ url: req.url, host: req.host, remoteAddr: req.remoteAddr, pid: process.pid }))];\n};\n`,
    );
    const plain = cli(['serve', urlApp, '--port', '0', '--proxy-headers']);
    const host = cli(['serve', urlApp, '--port', '0', '--proxy-headers', '--forwarded-host']);
    const prefix = cli(['serve', urlApp, '--port', '0', '--proxy-headers', '--forwarded-prefix']);
    // Behind nginx's usual Host $host, X-Forwarded-For and -Proto lines, a client's own
    // X-Forwarded-Host and -Prefix reach tsgi untouched.
    const sent = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Prefix': '/evil' };
    const [seenPlain, seenHost, seenPrefix] = await Promise.all(
      [plain, host, prefix].map(async (run) => {
        const url = await servingUrl(run);
        const answer = await get(`${url}/reset?token=1`, sent);
        expect(answer.status).toBe(200);
        return { port: new URL(url).port, seen: JSON.parse(answer.body) as Record<string, string> };
      }),
    );
    expect(seenPlain!.seen).toMatchObject({ url: `https://127.0.0.1:${seenPlain!.port}/reset?token=1`, host: `127.0.0.1:${seenPlain!.port}`, remoteAddr: '203.0.113.9' });
    expect(seenHost!.seen).toMatchObject({ url: 'https://evil.example/reset?token=1', host: 'evil.example', remoteAddr: '203.0.113.9' });
    expect(seenPrefix!.seen).toMatchObject({ url: `https://127.0.0.1:${seenPrefix!.port}/evil/reset?token=1`, remoteAddr: '203.0.113.9' });
  });

  it('--forwarded-prefix reaches every worker of --workers 2, which parse the command line again (X-Forwarded-Host still unread there)', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--workers', '2', '--no-access-log', '--log-level', 'debug', '--proxy-headers', '--forwarded-prefix']);
    const url = await servingUrl(run);
    const listening = () => (`${run.out.stdout}${run.out.stderr}`.match(/^tsgi: worker \d+ listening$/gm) ?? []).length;
    await waitFor(() => listening() === 2, () => `${run.out.stdout}${run.out.stderr}`);
    const seen = new Map<number, Record<string, unknown>>();
    // Linux hands connections to the workers in turn.
    for (let i = 0; i < 100 && seen.size < 2; i++) {
      const environ = JSON.parse((await get(`${url}/`, { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Prefix': '/shop' })).body) as Record<string, unknown>;
      seen.set(environ.pid as number, environ);
    }
    expect(seen.size).toBe(2);
    for (const environ of seen.values()) {
      expect(environ).toMatchObject({ SCRIPT_NAME: '/shop', HTTP_HOST: new URL(url).host });
    }
  });

  it('--proxy-headers: a TCP client that resets its connection right after its request is still not trusted', async () => {
    // Node answers no remoteAddress for a TCP socket its peer has reset (getpeername: ENOTCONN):
    // such a request must not pass for one from a Unix socket's (trusted) peer.
    const run = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--forwarded-allow-ips', '10.0.0.1']);
    const port = Number(new URL(await servingUrl(run)).port);
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((done) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('GET /reset HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n', () => socket.resetAndDestroy());
        });
        socket.on('error', () => {}).on('close', () => done());
      });
    }
    expect(JSON.parse((await get(`http://127.0.0.1:${port}/last`, { 'X-Forwarded-For': '6.6.6.6' })).body)).toMatchObject({ REMOTE_ADDR: '127.0.0.1' });
    await waitFor(() => run.out.stdout.includes('"GET /last HTTP/1.1"'), () => run.out.stdout);
    expect(run.out.stdout).toMatch(/"GET \/reset HTTP\/1\.1"/);
    expect(run.out.stdout).not.toMatch(/^6\.6\.6\.6 /m);
  });

  it('--root-path and --proxy-headers put no prefix in front of OPTIONS *, which names the server, not a path', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--forwarded-prefix', '--root-path', '/api']);
    const port = Number(new URL(await servingUrl(run)).port);
    const ask = async (target: string) => {
      const head = `OPTIONS ${target} HTTP/1.1\r\nHost: h\r\nX-Forwarded-Prefix: /shop\r\nConnection: close\r\n\r\n`;
      const res = parseRaw((await rawExchange(port, head)).raw);
      expect(res.status).toBe(200);
      return JSON.parse(res.rest) as Record<string, string>;
    };
    expect(await ask('*')).toMatchObject({ SCRIPT_NAME: '', PATH_INFO: '*' });
    expect(await ask('/x')).toMatchObject({ SCRIPT_NAME: '/shop/api', PATH_INFO: '/x' });
  });

  it('--trusted-hosts answers the hosts listed (and subdomains of a dotted entry), 400 to others', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--trusted-hosts', 'example.com, .example.org, bücher.example.']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`, { Host: 'example.com' })).status).toBe(200);
    // A name in Unicode, as serve() takes it: the punycode browsers send.
    expect((await get(`${url}/`, { Host: 'xn--bcher-kva.example' })).status).toBe(200);
    expect((await get(`${url}/`, { Host: 'shop.example.org:8080' })).status).toBe(200);
    const refused = await get(`${url}/`, { Host: 'evil.com' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('untrusted Host');
  });

  it('--trusted-hosts with --proxy-headers --forwarded-host: a forwarded X-Forwarded-Host is checked too, and its 400 logged', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--forwarded-host', '--trusted-hosts', 'example.com, .example.org']);
    // Without --forwarded-host the header is not read: the Host the server checked stays.
    const unread = cli(['serve', envApp, '--port', '0', '--proxy-headers', '--trusted-hosts', 'example.com']);
    const ignored = await get(`${await servingUrl(unread)}/`, { Host: 'example.com', 'X-Forwarded-Host': 'evil.com' });
    expect(ignored.status).toBe(200);
    expect(JSON.parse(ignored.body)).toMatchObject({ HTTP_HOST: 'example.com' });
    const url = await servingUrl(run);
    const forwarded = await get(`${url}/`, { Host: 'example.com', 'X-Forwarded-Host': 'shop.example.org' });
    expect(forwarded.status).toBe(200);
    expect(JSON.parse(forwarded.body)).toMatchObject({ HTTP_HOST: 'shop.example.org' });
    const refused = await get(`${url}/where`, { Host: 'example.com', 'X-Forwarded-Host': 'evil.com', 'User-Agent': 'probe' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('untrusted Host');
    await waitFor(() => run.out.stdout.includes('/where'), () => run.out.stdout);
    expect(run.out.stdout).toMatch(/"GET \/where HTTP\/1\.1" 400 \d+ "-" "probe"\n/);
    expect(run.out.stderr).toBe('');
  });

  it('the access log has the requests the server refused itself: a parser 400 as "-", a bad Host with its request line, a 413', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--max-body-size', '10b', '--workers', '2']);
    const url = await servingUrl(run);
    const port = Number(new URL(url).port);
    expect(parseRaw((await rawExchange(port, 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n')).raw).status).toBe(400);
    expect(parseRaw((await rawExchange(port, 'GET /where HTTP/1.1\r\nHost: bad host\r\nUser-Agent: probe\r\nConnection: close\r\n\r\n')).raw).status).toBe(400);
    expect((await post(`${url}/body`, 'more than ten bytes')).status).toBe(413);
    await waitFor(() => run.out.stdout.split('\n').length >= 5, () => run.out.stdout);
    const lines = run.out.stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^127\.0\.0\.1 - - \[[^\]]+\] "-" 400 \d+ "-" "-"$/));
    expect(lines).toContainEqual(expect.stringMatching(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/where HTTP\/1\.1" 400 \d+ "-" "probe"$/));
    expect(lines).toContainEqual(expect.stringMatching(/^127\.0\.0\.1 - - \[[^\]]+\] "POST \/body HTTP\/1\.1" 413 \d+ "-" "-"$/));
  });

  it('--access-log-format json: the app\'s requests and the refused ones as JSON objects, one a line, with the request id', async () => {
    // The app applies requestId itself: the CLI's access log, outside it, logs the id.
    const idApp = join(dir, 'with-id.mjs');
    const requestIdModule = pathToFileURL(join(ROOT, 'src/middleware/request-id.ts')).href;
    writeFileSync(idApp, `import { requestId } from ${JSON.stringify(requestIdModule)};\nimport { app as inner } from './env.mjs';\nexport const app = requestId(inner);\n`);
    const run = cli(['serve', idApp, '--port', '0', '--access-log-format', 'JSON']);
    // The information lines go to stderr, so stdout holds the JSON lines alone.
    const port = Number(new URL(await servingUrl(run, 15_000, 'stderr')).port);
    const ok = parseRaw((await rawExchange(port, 'GET /a?b=%22c HTTP/1.1\r\nHost: x\r\nUser-Agent: probe "x" \\\r\nReferer: http://ref.example/\r\nConnection: close\r\n\r\n')).raw);
    expect(ok.status).toBe(200);
    const id = ok.headers.find(([name]) => name.toLowerCase() === 'x-request-id')?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseRaw((await rawExchange(port, 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n')).raw).status).toBe(400);
    const badHost = 'GET /where?x HTTP/1.1\r\nHost: bad host\r\nUser-Agent: probe\r\nX-Request-Id: edge-7\r\nConnection: close\r\n\r\n';
    expect(parseRaw((await rawExchange(port, badHost)).raw).status).toBe(400);
    await waitFor(() => run.out.stdout.split('\n').length >= 4, () => run.out.stdout);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toMatch(/^Serving on .*\nStopping on SIGTERM: requests in flight get 30 s\n$/);
    const lines = run.out.stdout.split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const time = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const common = { time, remote_addr: '127.0.0.1', remote_user: null, outcome: 'end' };
    expect(records).toEqual([
      {
        ...common, method: 'GET', url: '/a?b=%22c', protocol: 'HTTP/1.1', status: 200, bytes: expect.any(Number), body_bytes_read: 0,
        duration_ms: expect.any(Number), referer: 'http://ref.example/', user_agent: 'probe "x" \\', request_id: id,
      },
      // Refused by the parser: no request line, no head, not timed.
      { ...common, method: null, url: null, protocol: null, status: 400, bytes: expect.any(Number), body_bytes_read: 0, duration_ms: null, referer: null, user_agent: null },
      // Refused for its Host: what was parsed; no request_id (requestId never ran), the client's
      // X-Request-Id is not presented as one.
      {
        ...common, method: 'GET', url: '/where?x', protocol: 'HTTP/1.1', status: 400, bytes: expect.any(Number), body_bytes_read: 0,
        duration_ms: null, referer: null, user_agent: 'probe',
      },
    ]);
    expect(Object.keys(records[2]!)).toEqual(Object.keys(records[1]!));
    expect(Object.keys(records[1]!)).toEqual(['time', 'remote_addr', 'remote_user', 'method', 'url', 'protocol', 'status', 'bytes', 'body_bytes_read', 'duration_ms', 'referer', 'user_agent', 'outcome']);
  });

  it('--access-log-format json with workers: SIGHUP rounds and the stop on stderr, stdout all JSON', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--workers', '1', '--access-log-format', 'json', '--log-level', 'debug']);
    const url = await servingUrl(run, 15_000, 'stderr');
    expect((await get(`${url}/`)).status).toBe(200);
    run.child.kill('SIGHUP');
    await waitFor(() => /^Replaced 1 worker$/m.test(run.out.stderr), () => run.out.stderr, 20_000);
    expect((await get(`${url}/`)).status).toBe(200);
    await waitFor(() => run.out.stdout.split('\n').length >= 3, () => run.out.stdout);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toMatch(/^SIGHUP: replacing 1 worker one by one$/m);
    expect(run.out.stderr).toMatch(/^tsgi: worker \d+ listening$/m);
    expect(run.out.stderr).toMatch(/^Stopping on SIGTERM: requests in flight get 30 s$/m);
    const lines = run.out.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => (JSON.parse(line) as { status: number }).status)).toEqual([200, 200]);
  });

  it('--no-access-log and --log-level: no request lines, no start line at warning; app errors still logged', async () => {
    const quiet = cli(['serve', envApp, '--port', '0', '--no-access-log']);
    const path = join(dir, 'quiet.sock');
    const warning = cli(['serve', envApp, '--uds', path, '--log-level', 'warning']);
    const url = await servingUrl(quiet);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await get(`${url}/fail`)).status).toBe(500);
    await waitFor(() => quiet.out.stderr.includes('failing on purpose'), () => quiet.out.stderr);
    expect(quiet.out.stdout).toMatch(/^Serving on /);
    expect(parseRaw((await rawExchange(Number(new URL(url).port), 'GET /a b HTTP/1.1\r\n\r\n')).raw).status).toBe(400);
    expect(quiet.out.stdout).not.toContain('"GET /');
    expect(quiet.out.stdout).not.toContain('" 400 ');
    const status = (target: string) =>
      new Promise<number>((resolve, reject) => {
        http.get({ socketPath: path, path: target }, (res) => resolve(res.resume().statusCode!)).on('error', reject);
      });
    // At warning there is no start line: wait for the socket to take a connection (its file
    // exists from bind(), a moment before listen(): a connection then is refused).
    let first: number | undefined;
    let asking = false;
    const ask = () => {
      asking = true;
      void status('/')
        .then((code) => (first = code), () => undefined)
        .finally(() => (asking = false));
    };
    await waitFor(() => {
      if (first === undefined && !asking && existsSync(path)) ask();
      return first !== undefined;
    }, () => `no socket taking connections; stderr: ${warning.out.stderr}`);
    expect(first).toBe(200);
    expect(await status('/fail')).toBe(500);
    await waitFor(() => warning.out.stderr.includes('failing on purpose'), () => warning.out.stderr);
    warning.child.kill('SIGTERM');
    expect(await warning.exited).toEqual({ code: 0, signal: null });
    expect(warning.out.stdout).toBe('');
  });

  it('a certificate expired, or not valid yet, is served with a warning: at start, and by the primary of --workers at each SIGHUP', async () => {
    const day = 24 * 3600 * 1000;
    const expired = await makeCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
    const early = await makeCertificate({ notBefore: new Date(Date.now() + 30 * day), notAfter: new Date(Date.now() + 60 * day) });
    try {
      const flags = (c: TestCertificate) => ['--ssl-certfile', c.certFile, '--ssl-keyfile', c.keyFile];
      const expiredLine = `tsgi: the certificate of --ssl-certfile '${expired.certFile}' expired on 2020-01-02T00:00:00Z: clients refuse it\n`;
      const one = cli(['serve', envApp, '--port', '0', ...flags(expired)]);
      const notYet = cli(['serve', envApp, '--port', '0', ...flags(early)]);
      const valid = cli(['serve', envApp, '--port', '0', ...flags(certificate)]);
      await Promise.all([servingUrl(one), servingUrl(notYet), servingUrl(valid)]);
      expect(one.out.stderr).toBe(expiredLine);
      expect(notYet.out.stderr).toMatch(new RegExp(`^tsgi: the certificate of --ssl-certfile '${early.certFile}' is valid from \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z only: clients refuse it until then \\(is this machine's clock right\\?\\)\n$`));
      expect(valid.out.stderr).toBe('');
      // Workers: the primary says it once, not each worker; again when a SIGHUP round starts.
      const workers = cli(['serve', envApp, '--port', '0', '--workers', '2', ...flags(expired)]);
      await servingUrl(workers);
      expect(workers.out.stderr).toBe(expiredLine);
      workers.child.kill('SIGHUP');
      await waitFor(() => workers.out.stdout.includes('Replaced 2 workers'), () => workers.out.stdout + workers.out.stderr, 30_000);
      expect(workers.out.stderr).toBe(expiredLine + expiredLine);
    } finally {
      expired.remove();
      early.remove();
    }
  });

  it('a full chain whose intermediate expired seconds ago is served, with a warning naming that certificate', async () => {
    const authority = await makeCertificate({ ca: true, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date(Date.now() - 5_000) });
    const leaf = await makeCertificate({ issuer: authority });
    try {
      const chain = join(dir, 'expired-intermediate.pem');
      writeFileSync(chain, `${leaf.cert.trimEnd()}\n${authority.cert}`);
      const served = cli(['serve', envApp, '--port', '0', '--ssl-certfile', chain, '--ssl-keyfile', leaf.keyFile]);
      await servingUrl(served);
      const expiry = new Date(new X509Certificate(authority.cert).validTo).toISOString().replace(/\.\d{3}Z$/, 'Z');
      expect(served.out.stderr).toBe(`tsgi: certificate 2 of --ssl-certfile '${chain}' (CN=Test CA) expired on ${expiry}: clients that build the chain through it may refuse it\n`);
    } finally {
      authority.remove();
      leaf.remove();
    }
  });

  it('SIGHUP to one process serving TLS reads the files again: new connections get the new certificate, open ones keep theirs, an unusable pair is logged and kept out', async () => {
    const [second, expired] = await Promise.all([makeCertificate(), makeCertificate({ notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') })]);
    const files = mkdtempSync(join(tmpdir(), 'tsgi-renew-'));
    try {
      const certFile = join(files, 'fullchain.pem');
      const keyFile = join(files, 'privkey.pem');
      const install = (c: TestCertificate) => {
        writeFileSync(certFile, c.cert);
        writeFileSync(keyFile, c.key);
      };
      install(certificate);
      const fingerprint = (c: TestCertificate) => new X509Certificate(c.cert).fingerprint256;
      /** A new connection: the certificate it got, and the protocol ALPN chose. */
      const handshake = (port: number, alpn: string[]) =>
        new Promise<{ certificate: string; protocol: string | false | null; socket: tls.TLSSocket }>((resolve, reject) => {
          const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: alpn }, () =>
            resolve({ certificate: socket.getPeerX509Certificate()?.fingerprint256 ?? '', protocol: socket.alpnProtocol, socket }),
          );
          socket.on('error', reject);
        });
      const flags = ['--ssl-certfile', certFile, '--ssl-keyfile', keyFile];
      const runs = [cli(['serve', envApp, '--port', '0', ...flags]), cli(['serve', envApp, '--port', '0', ...flags, '--http2'])];
      const ports = (await Promise.all(runs.map((run) => servingUrl(run)))).map((url) => Number(new URL(url).port));
      const kept = await handshake(ports[0]!, ['http/1.1']);
      expect(kept.certificate).toBe(fingerprint(certificate));
      const hup = async (stream: 'stdout' | 'stderr', line: string) => {
        const before = runs.map((run) => run.out[stream].length);
        for (const run of runs) run.child.kill('SIGHUP');
        await waitFor(() => runs.every((run, i) => run.out[stream].slice(before[i]).includes(line)), () => runs.map((run) => run.out.stdout + run.out.stderr).join('\n---\n'), 5_000);
      };
      const renewed = `SIGHUP: read --ssl-certfile '${certFile}' and --ssl-keyfile '${keyFile}' again: new connections get its certificate (CN=localhost, valid until `;

      install(second);
      await hup('stdout', renewed);
      for (const run of runs) expect(run.out.stdout).toMatch(/ valid until \d{4}-\d\d-\d\dT[\d:]+Z\); the app's code is not reloaded \(--workers 1 reloads both\)$/m);
      expect((await handshake(ports[0]!, ['http/1.1'])).certificate).toBe(fingerprint(second));
      const h2 = await handshake(ports[1]!, ['h2', 'http/1.1']);
      expect([h2.certificate, h2.protocol]).toEqual([fingerprint(second), 'h2']);
      h2.socket.destroy();
      // The connection open before (on the first certificate) is served on.
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        kept.socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        kept.socket.on('close', () => resolve(text));
        kept.socket.end('GET /kept HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

      // A hook that copied one file of two: the same diagnosis as at start, and the certificate stays.
      writeFileSync(certFile, certificate.cert);
      await hup('stderr', 'SIGHUP: kept the certificate in use: ');
      for (const run of runs) {
        expect(run.out.stderr).toBe(
          `tsgi: SIGHUP: kept the certificate in use: --ssl-keyfile '${keyFile}' is not the key of any certificate in --ssl-certfile '${certFile}' (OpenSSL: key values mismatch)\n`,
        );
      }
      expect((await handshake(ports[0]!, ['http/1.1'])).certificate).toBe(fingerprint(second));

      // An expired one is taken, with the warning of the start.
      install(expired);
      await hup('stdout', renewed);
      for (const run of runs) expect(run.out.stderr).toMatch(new RegExp(`\ntsgi: the certificate of --ssl-certfile '${certFile}' expired on 2020-01-02T00:00:00Z: clients refuse it\n$`));
      expect((await handshake(ports[1]!, ['h2'])).certificate).toBe(fingerprint(expired));
      for (const run of runs) expect(run.child.exitCode).toBe(null);
    } finally {
      second.remove();
      expired.remove();
      rmSync(files, { recursive: true, force: true });
    }
  });

  it('SIGHUP to one process serving TLS while the app loads reads the files again once it listens', async () => {
    const second = await makeCertificate();
    const files = mkdtempSync(join(tmpdir(), 'tsgi-renew-'));
    try {
      const certFile = join(files, 'fullchain.pem');
      const keyFile = join(files, 'privkey.pem');
      writeFileSync(certFile, certificate.cert);
      writeFileSync(keyFile, certificate.key);
      const slowApp = join(files, 'slow.mjs');
      writeFileSync(slowApp, `console.log('loading');\nawait new Promise((resolve) => setTimeout(resolve, 500));\nexport { app } from ${JSON.stringify(pathToFileURL(envApp).href)};\n`);
      const run = cli(['serve', slowApp, '--port', '0', '--ssl-certfile', certFile, '--ssl-keyfile', keyFile]);
      await waitFor(() => run.out.stdout.includes('loading\n'), () => run.out.stdout + run.out.stderr);
      writeFileSync(certFile, second.cert);
      writeFileSync(keyFile, second.key);
      run.child.kill('SIGHUP');
      const port = Number(new URL(await servingUrl(run)).port);
      await waitFor(() => run.out.stdout.includes('SIGHUP: read --ssl-certfile'), () => run.out.stdout + run.out.stderr, 5_000);
      const served = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(served).toBe(new X509Certificate(second.cert).fingerprint256);
    } finally {
      second.remove();
      rmSync(files, { recursive: true, force: true });
    }
  });

  it('SIGHUP to one process serving TLS during the graceful shutdown reads nothing: the closed server takes no new connections', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--ssl-certfile', certificate.certFile, '--ssl-keyfile', certificate.keyFile]);
    const port = Number(new URL(await servingUrl(run)).port);
    // A kept-alive connection holds the shutdown open (SIGTERM lets idle ones expire: 5 s).
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const opened = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        opened.once('data', () => resolve(opened));
        opened.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      });
      opened.on('error', reject);
    });
    try {
      run.child.kill('SIGTERM');
      await waitFor(() => run.out.stdout.includes('Stopping on SIGTERM'), () => run.out.stdout + run.out.stderr, 5_000);
      run.child.kill('SIGHUP');
      await waitFor(() => run.out.stderr.includes('SIGHUP'), () => run.out.stdout + run.out.stderr, 5_000);
      expect(run.out.stderr).toBe('tsgi: SIGHUP during the graceful shutdown: ignored (the server takes no new connections)\n');
      expect(run.out.stdout).not.toContain('SIGHUP');
    } finally {
      socket.destroy();
    }
    expect((await run.exited).code).toBe(0);
  });

  it('SIGHUP to one process without TLS is ignored, and logged', async () => {
    const served = cli(['serve', envApp, '--port', '0']);
    await servingUrl(served);
    served.child.kill('SIGHUP');
    await waitFor(() => served.out.stderr.includes('\n'), () => `no line: ${served.out.stderr}`, 5_000);
    expect(served.out.stderr).toBe('tsgi: SIGHUP ignored: it replaces the workers of --workers, and this is one process\n');
    expect(served.child.exitCode).toBe(null);
  });

  it('serves HTTPS with --ssl-certfile/--ssl-keyfile, HTTP/2 with --http2, cleartext HTTP/2 with --h2c', async () => {
    const tlsFlags = ['--ssl-certfile', certificate.certFile, '--ssl-keyfile', certificate.keyFile];
    const tls = cli(['serve', envApp, '--port', '0', ...tlsFlags]);
    const h2 = cli(['serve', envApp, '--port', '0', ...tlsFlags, '--http2']);
    const h2c = cli(['serve', envApp, '--port', '0', '--h2c']);
    const tlsUrl = await servingUrl(tls);
    expect(tls.out.stdout).toMatch(/^Serving on https:\/\/127\.0\.0\.1:\d+ \(HTTP\/1\.1, /m);
    const one = await new Promise<string>((resolve, reject) => {
      https
        .get(`${tlsUrl}/`, { ca: certificate.cert, agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(JSON.parse(one)).toMatchObject({ 'tsgi.url_scheme': 'https', SERVER_PROTOCOL: 'HTTP/1.1' });
    const h2Url = await servingUrl(h2);
    expect(h2.out.stdout).toMatch(/\(HTTP\/2 and HTTP\/1\.1, /);
    for (const [url, options] of [
      [h2Url, { ca: certificate.cert }],
      [await servingUrl(h2c), {}],
    ] as const) {
      const session = http2.connect(url, options);
      try {
        const res = await h2request(session, '/h2');
        expect(JSON.parse(res.body.toString())).toMatchObject({ SERVER_PROTOCOL: 'HTTP/2.0', PATH_INFO: '/h2' });
      } finally {
        session.close();
      }
    }
    expect(h2c.out.stdout).toMatch(/\(h2c and HTTP\/1\.1, /);
  });

  it('--uds: serves on the socket, removes a stale one first and its own at exit', async () => {
    const path = join(dir, 'app.sock');
    // A stale socket: its process died without removing it.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(path).isSocket()).toBe(true);
    const run = cli(['serve', envApp, '--uds', path]);
    expect(await servingUrl(run)).toBe(`unix:${path}`);
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/u', headers: { Host: 'example.com' } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ PATH_INFO: '/u', HTTP_HOST: 'example.com' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });

  it('--uds naming a stale socket relatively: removed and served on, though a live process in another folder listens on a socket of that same relative name', async () => {
    const other = join(dir, 'other-folder');
    mkdirSync(other, { recursive: true });
    // Another app, run from its own folder, on `--uds twin.sock`: /proc/net/unix lists its socket as `twin.sock`.
    const twin = spawn(process.execPath, ['-e', `require('net').createServer().listen('twin.sock', () => console.log('ready'))`], { cwd: other, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => twin.stdout.once('data', resolve));
      // This folder's `twin.sock` is stale: its process died without removing it.
      spawnSync(process.execPath, ['-e', `require('net').createServer().listen('twin.sock', () => process.kill(process.pid, 'SIGKILL'))`], { cwd: dir });
      expect(statSync(join(dir, 'twin.sock')).isSocket()).toBe(true);
      const run = spawn(process.execPath, ['--conditions=tsgi-source', join(ROOT, 'src/cli/main.ts'), 'serve', envApp, '--uds', 'twin.sock'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: '', stderr: '' };
      run.stdout.setEncoding('utf8').on('data', (text: string) => (out.stdout += text));
      run.stderr.setEncoding('utf8').on('data', (text: string) => (out.stderr += text));
      const closed = new Promise((resolve) => run.once('close', resolve));
      await waitFor(() => out.stdout.includes('unix:twin.sock') || run.exitCode !== null, () => `no start line; stderr: ${out.stderr}`, 30_000);
      expect(out.stderr).toBe('');
      expect(out.stdout).toContain('unix:twin.sock');
      run.kill('SIGTERM');
      expect(await closed).toBe(0);
    } finally {
      twin.kill('SIGKILL');
    }
  });

  it('--uds: a live server whose accept queue is full is not taken for a stale one: its socket stays, exit 1', async () => {
    const path = join(dir, 'busy.sock');
    // A server under load: it listens with a queue of one and does not accept for a while.
    const busy = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen({ path: ${JSON.stringify(path)}, backlog: 1 }, () => { console.log('ready'); const end = Date.now() + 6000; while (Date.now() < end); })`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((resolve) => busy.stdout.once('data', resolve));
      const before = statSync(path).ino;
      // Fill its queue: connecting now fails with EAGAIN, as it does for anyone.
      const waiting: net.Socket[] = [];
      for (let full = false; !full && waiting.length < 8; ) {
        full = await new Promise<boolean>((resolve) => {
          const socket = net.connect(path);
          waiting.push(socket);
          socket.once('connect', () => resolve(false)).once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EAGAIN'));
        });
      }
      const run = cli(['serve', envApp, '--uds', path]);
      const outcome = await servingUrl(run, 5_000).then(
        () => 'serving',
        () => 'exited',
      );
      for (const socket of waiting) socket.destroy();
      expect(outcome).toBe('exited');
      expect(await run.exited).toEqual({ code: 1, signal: null });
      expect(run.out.stderr).toBe(`tsgi: cannot listen on ${path}: address already in use (another process listens on this socket: stop it, or choose another --uds)\n`);
      expect(statSync(path).ino).toBe(before);
    } finally {
      busy.kill('SIGKILL');
    }
  });

  it('--uds naming a socket in the working folder (no slash) in use: the --uds hint, not the --port one', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(join(dir, 'relative.sock'), resolve));
    try {
      // Run from the socket's folder, so the path given has no slash in it.
      const run = spawn(process.execPath, ['--conditions=tsgi-source', join(ROOT, 'src/cli/main.ts'), 'serve', envApp, '--uds', 'relative.sock'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      run.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const code = await new Promise((resolve) => run.once('close', resolve));
      expect(code).toBe(1);
      expect(stderr).toBe('tsgi: cannot listen on relative.sock: address already in use (another process listens on this socket: stop it, or choose another --uds)\n');
    } finally {
      taken.close();
    }
  });

  it('--uds with a path longer than a Unix socket takes: one line saying so, naming the flag, exit 1', async () => {
    const path = join(dir, `${'s'.repeat(120)}.sock`);
    const [alone, workers] = await Promise.all([finish(['serve', envApp, '--uds', path]), finish(['serve', envApp, '--uds', path, '--workers', '2'])]);
    for (const result of [alone, workers]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`tsgi: cannot listen on ${path}: invalid argument (a Unix socket's path is at most 107 bytes, 103 on macOS: choose a shorter --uds)\n`);
    }
  });

  it('--env-file sets the variables the environment lacks, before the app loads, in every worker; they are the defaults of $PORT and $WEB_CONCURRENCY', async () => {
    const app = join(dir, 'env-file-app.mjs');
    writeFileSync(
      app,
      `const atLoad = process.env.GREETING;
export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  const { GREETING, SHELL_WINS, MULTI } = process.env;
  return [new TextEncoder().encode(JSON.stringify({ atLoad, GREETING, SHELL_WINS, MULTI, pid: process.pid, multiprocess: environ['tsgi.multiprocess'] }))];
};
`,
    );
    const envFile = join(dir, 'app.env');
    writeFileSync(envFile, '# settings\nGREETING="hello from the file"\nexport SHELL_WINS=file\nMULTI="one\\ntwo"\nPORT=0\nWEB_CONCURRENCY=2\n');
    const run = cli(['serve', app, '--env-file', envFile], { SHELL_WINS: 'shell' });
    const url = await servingUrl(run);
    expect(run.out.stdout).toMatch(/2 workers/);
    // The start line comes once the first worker listens: ask until both have answered.
    const seen = new Map<number, unknown>();
    for (const deadline = Date.now() + 15_000; seen.size < 2 && Date.now() < deadline; ) {
      const answer = JSON.parse((await get(`${url}/`)).body) as { pid: number };
      seen.set(answer.pid, answer);
      if (seen.size < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen.size).toBe(2);
    for (const answer of seen.values()) {
      expect(answer).toMatchObject({ atLoad: 'hello from the file', GREETING: 'hello from the file', SHELL_WINS: 'shell', MULTI: 'one\ntwo', multiprocess: true });
    }
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('--env-file reads a file saved with a byte order mark (Windows editors) and CRLF line ends', async () => {
    const app = join(dir, 'env-file-bom-app.mjs');
    writeFileSync(
      app,
      `export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ FIRST: process.env.FIRST, SECOND: process.env.SECOND }))];
};
`,
    );
    const envFile = join(dir, 'bom.env');
    writeFileSync(envFile, '\uFEFFFIRST=one\r\nSECOND="two"\r\nPORT=0\r\n');
    const run = cli(['serve', app, '--env-file', envFile]);
    const url = await servingUrl(run);
    expect(JSON.parse((await get(`${url}/`)).body)).toEqual({ FIRST: 'one', SECOND: 'two' });
  });

  it('--env-file skips an indented comment line, as dotenv does, rather than setting a variable named after it', async () => {
    const app = join(dir, 'env-file-comment-app.mjs');
    writeFileSync(
      app,
      `export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ DB_PASSWORD: process.env.DB_PASSWORD, odd: Object.keys(process.env).filter((name) => name.includes('#')) }))];
};
`,
    );
    const envFile = join(dir, 'indented-comment.env');
    writeFileSync(envFile, 'DB_PASSWORD=new\n  # DB_PASSWORD=old\n\t#OTHER=1\nPORT=0\n');
    const run = cli(['serve', app, '--env-file', envFile]);
    const url = await servingUrl(run);
    expect(JSON.parse((await get(`${url}/`)).body)).toEqual({ DB_PASSWORD: 'new', odd: [] });
  });

  it('--env-file reads export followed by a tab (export\tKEY=value) as bash, dotenv and python-dotenv do, not as a variable named "export\tKEY"', async () => {
    const app = join(dir, 'env-file-export-tab-app.mjs');
    writeFileSync(
      app,
      `export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'application/json']]);
  const { API_KEY, REGION } = process.env;
  return [new TextEncoder().encode(JSON.stringify({ API_KEY, REGION, odd: Object.keys(process.env).filter((name) => /\\s/.test(name)) }))];
};
`,
    );
    const envFile = join(dir, 'export-tab.env');
    // REGION: set by a later line, which wins as in any other file.
    writeFileSync(envFile, 'export\tAPI_KEY=tabbed\nexport\tREGION=old\nREGION=new\nPORT=0\n');
    const run = cli(['serve', app, '--env-file', envFile]);
    const url = await servingUrl(run);
    expect(JSON.parse((await get(`${url}/`)).body)).toEqual({ API_KEY: 'tabbed', REGION: 'new', odd: [] });
  });

  it('--fd 3 serves on the socket handed over (systemd socket activation), in every worker', async () => {
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(0, '127.0.0.1', done));
    const { port } = socket.address() as net.AddressInfo;
    const run = cli(['serve', envApp, '--fd', '3', '--workers', '2'], {}, (socket as unknown as { _handle: { fd: number } })._handle.fd);
    // The CLI holds the socket now: this process must not accept on it.
    await new Promise<void>((done) => socket.close(() => done()));
    expect(await servingUrl(run)).toBe(`http://127.0.0.1:${port}`);
    const pids = new Set<number>();
    for (const deadline = Date.now() + 15_000; pids.size < 2 && Date.now() < deadline; ) {
      const answer = await get(`http://127.0.0.1:${port}/`);
      expect(answer.status).toBe(200);
      pids.add((JSON.parse(answer.body) as { pid: number }).pid);
    }
    expect(pids.size).toBe(2);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('--fd 3 --workers 1: the socket outlives a worker that dies, and its replacement serves on it', async () => {
    const crashing = join(dir, 'crash-fd.mjs');
    writeFileSync(
      crashing,
      `export const app = async (environ, start) => {
  if (environ.PATH_INFO === '/crash') setTimeout(() => process.exit(3), 10);
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ pid: process.pid }))];
};
`,
    );
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(0, '127.0.0.1', done));
    const { port } = socket.address() as net.AddressInfo;
    const run = cli(['serve', crashing, '--fd', '3', '--workers', '1'], {}, (socket as unknown as { _handle: { fd: number } })._handle.fd);
    await new Promise<void>((done) => socket.close(() => done()));
    expect(await servingUrl(run)).toBe(`http://127.0.0.1:${port}`);
    const first = (JSON.parse((await get(`http://127.0.0.1:${port}/crash`)).body) as { pid: number }).pid;
    await waitFor(() => run.out.stderr.includes(`worker ${first} died`), () => `no death; stderr: ${run.out.stderr}`);
    // No worker runs now: the connection waits in the socket's queue for the replacement.
    const answer = await get(`http://127.0.0.1:${port}/`);
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as { pid: number }).pid).not.toBe(first);
    expect(run.out.stderr).not.toMatch(/cannot listen/);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('--fd 3 on a Unix socket: --proxy-headers trusts its peers, as on --uds; the socket stays at exit', async () => {
    const bound = join(dir, 'fd-bound.sock');
    const socket = net.createServer();
    await new Promise<void>((done) => socket.listen(bound, done));
    // Closing this process's copy removes the path Node bound: a second link keeps the socket reachable.
    const path = join(dir, 'fd-app.sock');
    linkSync(bound, path);
    const run = cli(['serve', envApp, '--fd', '3', '--proxy-headers'], {}, (socket as unknown as { _handle: { fd: number } })._handle.fd);
    await new Promise<void>((done) => socket.close(() => done()));
    await waitFor(() => run.out.stdout.includes('\n'), () => `no start line; stderr: ${run.out.stderr}`);
    expect(run.out.stdout).toMatch(/^Serving on the Unix socket of --fd 3 \(HTTP\/1\.1, 1 process, /);
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/', headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https' } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ REMOTE_ADDR: '203.0.113.9', 'tsgi.url_scheme': 'https' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(statSync(path).isSocket()).toBe(true);
  });

  describe.skipIf(!socketActivate)('under systemd-socket-activate', () => {
    /** A port free a moment ago, for systemd-socket-activate to bind. */
    async function freePort(): Promise<number> {
      const probe = net.createServer();
      await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
      const { port } = probe.address() as net.AddressInfo;
      await new Promise<void>((done) => probe.close(() => done()));
      return port;
    }

    it.each([[[]], [['--workers', '2']]])('--fd 3 %j leaves no LISTEN_* variable to the app and the processes it starts (sd_listen_fds(1))', async (extra: string[]) => {
      const app = join(dir, 'listen-env.mjs');
      writeFileSync(
        app,
        `import { execFileSync } from 'node:child_process';
const names = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'];
export const app = (environ, start) => {
  const child = execFileSync(process.execPath, ['-p', \`JSON.stringify(\${JSON.stringify(names)}.map((n) => process.env[n] ?? null))\`], { encoding: 'utf8' });
  start('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ app: names.map((n) => process.env[n] ?? null), child: JSON.parse(child) }))];
};
`,
      );
      const port = await freePort();
      const run = cli(['serve', app, '--fd', '3', ...extra], {}, undefined, [socketActivate!, '-l', `127.0.0.1:${port}`, '--fdname', 'web']);
      await waitFor(() => run.out.stderr.includes('Listening on'), () => `not listening: ${run.out.stderr}`);
      const answer = await get(`http://127.0.0.1:${port}/`);
      expect(answer.status, run.out.stderr).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ app: [null, null, null], child: [null, null, null] });
      run.child.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
    });

    it.each([[[]], [['--workers', '2']]])('--fd 3 %j given a connection (Accept=yes): one line saying to use Accept=no, exit 1', async (extra: string[]) => {
      const port = await freePort();
      const run = cli(['serve', envApp, '--fd', '3', ...extra], {}, undefined, [socketActivate!, '-l', `127.0.0.1:${port}`, '--accept']);
      // systemd-socket-activate starts the command for the first connection, with it as descriptor 3.
      await waitFor(() => run.out.stderr.includes('Listening on'), () => `not listening: ${run.out.stderr}`);
      await get(`http://127.0.0.1:${port}/`).catch(() => undefined);
      await waitFor(() => /died with code/.test(run.out.stderr), () => `the CLI did not stop: ${run.out.stderr}`);
      const lines = run.out.stderr.split('\n').filter((line) => line.startsWith('tsgi:'));
      expect(lines).toEqual([
        'tsgi: cannot listen on --fd 3: descriptor 3 is a connection, not a listening socket (systemd\'s Accept=yes is not supported: use Accept=no)',
      ]);
      expect(run.out.stderr).toMatch(/Child \d+ died with code 1/);
    });
  });

  it('--fd naming no open socket: one line naming the flag, exit 1', async () => {
    const result = await finish(['serve', envApp, '--fd', '97']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tsgi: cannot listen on --fd 97: no socket open as descriptor 97 in this process (EINVAL; systemd passes its first socket as 3)\n');
  });

  it('--fd naming no open socket, with --workers: the same line, exit 1', async () => {
    const result = await finish(['serve', envApp, '--fd', '97', '--workers', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tsgi: cannot listen on --fd 97: no socket open as descriptor 97 in this process (EINVAL; systemd passes its first socket as 3)\n');
  });

  it("--fd naming one of Node's own descriptors (no socket handed over): the same line, exit 1, never a crash", async () => {
    // Without a socket handed over, Node's own descriptors (its event loop's, its pipes) are
    // where a socket would be: libuv must never be handed one (one of them aborted the process).
    const fds = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const results = await Promise.all(fds.map((fd) => finish(['serve', envApp, '--fd', String(fd)])));
    results.forEach((result, i) => {
      const fd = fds[i]!;
      expect(result.code, `--fd ${fd}`).toBe(1);
      expect(result.stderr, `--fd ${fd}`).toMatch(
        new RegExp(`^tsgi: cannot listen on --fd ${fd}: no socket open as descriptor ${fd} in this process \\((EINVAL|ENOTSOCK); systemd passes its first socket as 3\\)\\n$`),
      );
    });
  });

  it('--limit-max-requests in one process: stops gracefully after that many requests', async () => {
    const run = cli(['serve', envApp, '--port', '0', '--limit-max-requests', '3']);
    const url = await servingUrl(run);
    for (let i = 0; i < 3; i++) expect((await get(`${url}/`)).status).toBe(200);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stdout).toMatch(/^Stopping after 3 requests \(--limit-max-requests\)/m);
  });

  it('--limit-max-requests-jitter adds 0 to n requests to the limit, drawn in each process', { timeout: 60_000 }, async () => {
    // Three processes with a limit of 1 and a jitter of 30: each stops after 1 to 31 requests,
    // and all three after exactly 1 only once in 29,791 runs (always, without the jitter).
    const counts = await Promise.all(
      [0, 1, 2].map(async () => {
        const run = cli(['serve', envApp, '--port', '0', '--limit-max-requests', '1', '--limit-max-requests-jitter', '30']);
        const url = await servingUrl(run);
        let served = 0;
        while (run.child.exitCode === null && served < 40) {
          const ok = await get(`${url}/`).then(() => true, () => false);
          if (!ok) break;
          served++;
          // The process stops once the request at its limit is answered.
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        expect(await run.exited).toEqual({ code: 0, signal: null });
        const stopped = /^Stopping after (\d+) requests \(--limit-max-requests\)/m.exec(run.out.stdout);
        expect(stopped, run.out.stdout).not.toBeNull();
        return Number(stopped![1]);
      }),
    );
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(31);
    }
    expect(counts.some((count) => count > 1), String(counts)).toBe(true);
  });

  it('prints a colour banner on a terminal', async () => {
    const run = onTerminal([envApp, '--port', '0']);
    try {
      await waitFor(() => run.output().includes('Press Ctrl-C to stop'), () => `no banner: ${JSON.stringify(run.output())}`);
      expect(run.output()).toContain('\u001b[');
      // eslint-disable-next-line no-control-regex
      const plain = run.output().replace(/\u001b\[[\d;]*m/g, '');
      expect(plain).toMatch(/tsgi \d+\.\d+\.\d+/);
      expect(plain).toMatch(/Serving on http:\/\/127\.0\.0\.1:\d+/);
      expect(plain).toMatch(/HTTP\/1\.1 · 1 process · Node v[\d.]+ · reload off/);
    } finally {
      await run.stop();
    }
    expect(run.output()).toContain('Stopping on SIGINT');
  });
});
