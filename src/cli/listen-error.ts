/**
 * The one-line report of an address `tsgi serve` cannot listen on, as uvicorn and gunicorn
 * print one: what was asked, why it failed, and the flag to change. Node's own messages differ
 * by process (`listen EADDRINUSE: address already in use 127.0.0.1:8000` in one process,
 * `bind EADDRINUSE 127.0.0.1:8000` from a `--workers` worker) and name no flag.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** The fields of a Node system error from `listen`, `bind` or `getaddrinfo`. */
interface ListenErrorFields {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/** Why, for each error code, with the hint to give: by `--port`/`--host` or by `--uds`. */
const REASONS: Readonly<Record<string, { why: string; tcp: string; uds: string }>> = {
  EADDRINUSE: {
    why: 'address already in use',
    tcp: 'another process listens there: stop it, or choose another --port',
    uds: 'another process listens on this socket: stop it, or choose another --uds',
  },
  EACCES: {
    why: 'permission denied',
    tcp: 'ports below 1024 need privileges: choose a higher --port, behind a proxy',
    uds: "the socket's folder must be writable by this user",
  },
  EADDRNOTAVAIL: {
    why: 'address not available',
    tcp: 'no interface of this machine has it: check --host, or use 0.0.0.0 or :: for every one',
    uds: 'check --uds',
  },
  ENOENT: { why: 'no such folder', tcp: 'check --host', uds: "create the socket's folder first, as systemd's RuntimeDirectory does" },
  // What libuv says of a socket path longer than `sockaddr_un` holds (108 bytes on Linux, 104 on macOS, with its NUL).
  EINVAL: {
    why: 'invalid argument',
    tcp: 'check --host and --port',
    uds: "a Unix socket's path is at most 107 bytes, 103 on macOS: choose a shorter --uds",
  },
};

/**
 * The report of `error` when it says the address cannot be listened on, e.g.
 * `cannot listen on 127.0.0.1:8000: address already in use (another process listens there:
 * stop it, or choose another --port)`, or `cannot resolve --host 'web.invalid' (ENOTFOUND)`;
 * `undefined` for any other error. With `fd` (`--fd`), a failure to listen on it names the flag.
 * `uds` is the `--uds` path, if any: an error about it gets the `--uds` hints, though it names
 * a socket in the working folder without a slash (`app.sock`); another address with a slash is
 * taken for a socket path too.
 */
export function listenFailure(error: unknown, fd?: number, uds?: string): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, syscall, address, port, hostname } = error as ListenErrorFields;
  if (typeof code !== 'string') return undefined;
  if (fd !== undefined && (syscall === 'listen' || syscall === 'bind' || code === 'ERR_INVALID_FD_TYPE')) {
    // libuv says EINVAL for a descriptor that is closed or no socket (the primary of --workers
    // says it too, before forking: shareActivatedSocket).
    return `cannot listen on --fd ${fd}: no socket open as descriptor ${fd} in this process (${code}; systemd passes its first socket as 3)`;
  }
  if (syscall === 'getaddrinfo') return `cannot resolve --host '${String(hostname)}' (${code})`;
  if (typeof address !== 'string') return undefined;
  // Node sets `port` -1 for a socket path, and leaves it out for port 0.
  const isUds = address === uds || /[/\\]/.test(address);
  // libuv reports a socket path in a folder that does not exist as EACCES, not ENOENT.
  const reason = REASONS[isUds && code === 'EACCES' && !existsSync(dirname(address)) ? 'ENOENT' : code];
  if (reason === undefined) return undefined;
  const tcpPort = typeof port === 'number' && port > 0 ? port : undefined;
  const host = address.includes(':') ? `[${address}]` : address;
  const where = isUds ? address : tcpPort === undefined ? host : `${host}:${tcpPort}`;
  const hint = isUds ? reason.uds : code === 'EACCES' && (tcpPort ?? 0) >= 1024 ? 'check --host and --port' : reason.tcp;
  return `cannot listen on ${where}: ${reason.why} (${hint})`;
}
