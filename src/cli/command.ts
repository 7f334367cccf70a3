/**
 * What a `tsgi serve` command line asks for, once parsed (src/cli/serve-args.ts) and before
 * anything runs.
 *
 * @module
 */
import type { CertReqs, CliAccessLogFormat, LogLevel } from './values.ts';

/** TLS files named on the command line (read and checked before serving). */
export interface SslFiles {
  readonly certfile: string;
  readonly keyfile: string;
  readonly password: string | undefined;
  /**
   * Where {@link password} came from, for error messages: `--ssl-keyfile-password`, or
   * `$TSGI_SSL_KEYFILE_PASSWORD` (with the `--env-file` that set it, when one did).
   */
  readonly passwordFrom: string;
  /** `--ssl-ca-certs`: the CAs (PEM) that verify client certificates; `undefined` for none. */
  readonly caCerts: string | undefined;
  /** `--ssl-cert-reqs`: whether a client certificate is asked for, and required; default `none`. */
  readonly certReqs: CertReqs;
}

/**
 * `tsgi serve`: what to load, where to listen, and how to serve. Times are in milliseconds
 * (the flags take seconds), sizes in bytes.
 */
export interface ServeCommand {
  readonly command: 'serve';
  /** The module path as given, relative to the working directory (`examples/demo.ts`). */
  readonly module: string;
  /** The export to serve; `app` when the target has no `:export`. */
  readonly exportName: string;
  /**
   * `--upgrade`: the export of {@link module} that takes the HTTP/1.1 `Upgrade` requests
   * (`serve()`'s `upgrade`); `undefined` leaves them to the app.
   */
  readonly upgrade: string | undefined;
  /** Address to bind; default `127.0.0.1`. */
  readonly host: string;
  /** Port to bind (0–65535, 0 picks a free one); default `$PORT`, else 8000. */
  readonly port: number;
  /** A Unix socket to listen on instead of `host` and `port`. */
  readonly uds: string | undefined;
  /** `--uds-mode`: the permission bits of the {@link uds} socket (`serve()`'s `pathMode`); `undefined`: 0o666. */
  readonly udsMode: number | undefined;
  /**
   * An open socket to listen on instead of `host` and `port` (`serve()`'s `fd`): systemd
   * socket activation hands the first one over as descriptor 3.
   */
  readonly fd: number | undefined;
  /** Certificate and key for TLS. */
  readonly ssl: SslFiles | undefined;
  /** `true`: HTTP/2 over TLS; `'h2c'`: cleartext HTTP/2; `false`: HTTP/1.1 only. */
  readonly http2: boolean | 'h2c';
  /**
   * `--proxy-headers`: apply `proxyFix` (one proxy) to requests from {@link forwardedAllowIps}:
   * `X-Forwarded-For` and `-Proto` (`xFor: 1, xProto: 1`, Werkzeug's `ProxyFix` defaults and
   * uvicorn's `--proxy-headers`), plus those {@link forwardedHost} and {@link forwardedPrefix} add.
   */
  readonly proxyHeaders: boolean;
  /** Peers trusted with forwarding headers; `['*']` for any. */
  readonly forwardedAllowIps: readonly string[];
  /**
   * `--forwarded-host` (only with {@link proxyHeaders}): trust `X-Forwarded-Host` too
   * (`xHost: 1`), checked against {@link trustedHosts} when given; default `false`, since a
   * proxy that does not set it passes the client's own on.
   */
  readonly forwardedHost: boolean;
  /** `--forwarded-prefix` (only with {@link proxyHeaders}): trust `X-Forwarded-Prefix` too (`xPrefix: 1`); default `false`. */
  readonly forwardedPrefix: boolean;
  /** The prefix a proxy strips, prepended to `SCRIPT_NAME`; `''` for none. */
  readonly rootPath: string;
  /** The host names answered (`serve()`'s `trustedHosts`); `undefined` for any. */
  readonly trustedHosts: readonly string[] | undefined;
  readonly timeoutKeepAlive: number;
  readonly timeoutHeaders: number;
  readonly timeoutRequest: number;
  /** Milliseconds a read of the request body may wait for data (`serve()`'s `bodyTimeout`); 0 turns it off. */
  readonly timeoutBody: number;
  readonly timeoutGracefulShutdown: number;
  /** Most requests in flight per process (503 past it); `undefined` for no limit. */
  readonly limitConcurrency: number | undefined;
  /**
   * With {@link workers}: the longest a listening worker may go without a heartbeat from its
   * event loop before the primary kills it (SIGKILL) and starts another; 0 turns the check off.
   */
  readonly timeoutWorkerHealthcheck: number;
  /** Requests a worker serves before it is replaced; `undefined` for no limit. */
  readonly limitMaxRequests: number | undefined;
  /**
   * Most requests added to {@link limitMaxRequests}, drawn anew in each process (0 to this),
   * so that workers started together are not replaced together; 0 for none.
   */
  readonly limitMaxRequestsJitter: number;
  /** Largest request body in bytes (413 past it); 0 for no limit. */
  readonly maxBodySize: number;
  /**
   * Number of worker processes (node:cluster), from `--workers`, else `$WEB_CONCURRENCY` (not
   * with `--reload`); `undefined` serves in this process.
   */
  readonly workers: number | undefined;
  /**
   * The variables of `--env-file` that the environment did not set (those it set win). The
   * process that loads the app puts them in `process.env` first (each worker, the child of
   * `--reload`, which reads the file again at each restart); they are also the defaults of the
   * flags read from the environment (`$PORT`, `$WEB_CONCURRENCY`, `$FORWARDED_ALLOW_IPS`).
   */
  readonly environment: Readonly<Record<string, string>>;
  /** Restart on file changes under {@link reloadDirs}. */
  readonly reload: boolean;
  /** Folders watched by `--reload`; default the module's folder. */
  readonly reloadDirs: readonly string[];
  /** One access log line per request on stdout. */
  readonly accessLog: boolean;
  /** The format of the access log lines, the app's and the refused requests'; default `combined`. */
  readonly accessLogFormat: CliAccessLogFormat;
  /**
   * `--access-log-redact`: the query parameters whose values every line tsgi writes shows as
   * `[Redacted]`: the access log's (the app's, the refused requests', the upgrades') and the
   * request line of the error log's (`serve()`'s `redactQuery`); empty for none.
   */
  readonly accessLogRedact: readonly string[];
  readonly logLevel: LogLevel;
}
