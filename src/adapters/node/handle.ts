/**
 * The handle `serve()` answers: the bound address and a graceful `close()`.
 *
 * @module
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import { constants } from 'node:os';
import type { LogStream } from '../../gateway/types.ts';
import type { Listener } from './listener.ts';
import type { ServerState } from './state.ts';
import { serverShuttingDown } from '../../gateway/abort.ts';
import type { ShutdownWatch } from '../../gateway/shutdown.ts';
import { type OptionNames, checkOptions } from '../../gateway/option-names.ts';
import { MAX_DELAY } from '../../gateway/max-delay.ts';
import { stderrLog, writeLineOrStderr } from '../../gateway/log.ts';
import { shownValue } from '../../gateway/shown.ts';

/** How long `close()` waits at most, after the server closed, for the cut bodies' `return()`, ms. */
const BODY_CLOSE_GRACE = 2000;

/** A running server, as answered by `serve()`. */
export interface ServerHandle {
  /**
   * The listening server: an `http.Server`, an `https.Server` with `tls`, an
   * `Http2SecureServer` with `http2: true` (with `'h2c'`, the `http.Server` that hands
   * HTTP/2 connections to a cleartext `Http2Server`).
   */
  readonly server: NetServer;
  /** The bound address, e.g. `127.0.0.1` or `::1`; `localhost` on a Unix socket. */
  readonly host: string;
  /** The bound port (the real one when `port: 0` was asked); 0 on a Unix socket. */
  readonly port: number;
  /** The Unix socket's path, when listening on one (`''` for one handed over by `fd`, whose path Node cannot ask); `undefined` on TCP. */
  readonly path: string | undefined;
  /**
   * `http://host:port` (`https://` with `tls`), IPv6 addresses in brackets; on a Unix socket
   * `unix:/path` (nginx's notation).
   */
  readonly url: string;
  /**
   * Stops accepting connections, lets requests in flight finish, and resolves when the server
   * is closed and the streamed bodies it cut are closed (their `return()` settled, so their
   * `finally` blocks have run), the apps it cut before they answered have settled (one
   * that stops on `tsgi.signal` has written its access log line), and each connection handed
   * to the `upgrade` handler (a WebSocket) has emitted its `'close'`, `onUpgradeClosed` told
   * of it (an `async` one's promise is waited for with the work below). Busy keep-alive connections close as soon as their response
   * ends, and answers started meanwhile carry `Connection: close`. After `timeout`
   * milliseconds (default 10 000) the remaining connections are cut (the `tsgi.signal` of each
   * request cut aborts with an `AbortError` saying `server shutting down`, as that of an event
   * stream it ends does, not `client disconnected`). HTTP/2 connections get
   * `GOAWAY` and close once their open streams are done, and it resolves only once their
   * sessions have closed too, after each stream's answer (so `accessLog` has written the line
   * of a request finished during the close). Calling it again answers the same
   * promise; a shorter `timeout` given then moves the cut forward (`close({ timeout: 0 })` cuts
   * what remains at once, as a second Ctrl-C does, and stops waiting for bodies still
   * closing and apps still working, which are otherwise waited for `timeout` more
   * milliseconds, 2 s at most, and the work below), and
   * `idle: 'close'` given then closes the idle connections an earlier `idle: 'expire'` kept.
   * Then it waits for the work apps handed over to run after their answers
   * (`res.callOnClose`, `tsgi.wait_until`) and the promises of an `async` `onUpgradeClosed`
   * or `onRefused` (a log line shipped to a store; a rejection is logged), until `timeout` milliseconds
   * after the call, as uvicorn waits for its connections' tasks until its graceful timeout; work
   * still running then is named in `serve()`'s `log` (`tsgi: the graceful close stopped
   * waiting at its timeout for the work still running after the answers …`), as a Worker's
   * runtime reports the `waitUntil()` tasks it cancels: a webhook answered `202` whose
   * processing was cut is otherwise lost without a word.
   *
   * `idle` says what becomes of idle HTTP/1 keep-alive connections (see {@link CloseOptions}):
   * closed at once (`'close'`, the default, as Node's `server.close()`, uvicorn and gunicorn
   * do), or left open until their keep-alive timeout ends them (`'expire'`).
   *
   * Given as a listener, it takes what Node hands a listener for no options: a signal's name
   * (`process.once('SIGTERM', server.close)`) or an event (`signal.addEventListener('abort',
   * server.close)`). Rejects, closing nothing, with a `TypeError` for other options that are
   * not a plain object (`close(5000)`: write `{ timeout: 5000 }`), hold an unknown key
   * (`server.close: unknown option "idel": did you mean "idle"?`) or a `timeout` past
   * 2147483647 ms or no number (see {@link CloseOptions.timeout}).
   */
  close(options?: CloseOptions): Promise<void>;
}

/** The options of {@link ServerHandle.close}. */
export interface CloseOptions {
  /**
   * Milliseconds before the connections still open are cut. Default 10 000; at most 2147483647
   * (`setTimeout`'s limit, 24.8 days), or `Infinity` to wait for them however long they take.
   * Past that limit, or `NaN` or no number, `close()` rejects with a `TypeError`, closing
   * nothing (Node would run such a timer after 1 ms, cutting every connection at once).
   */
  timeout?: number | undefined;
  /**
   * Idle HTTP/1 keep-alive connections: `'close'` (default) closes them at once; `'expire'`
   * keeps them until the keep-alive timeout (`keepAliveTimeout`) or their client ends them,
   * and a request that comes on one meanwhile is answered, with `Connection: close`. Not the
   * connection of an event stream the shutdown ends: closed after its last chunk either way,
   * so the client reconnects to a server still running. Nor a new connection that has sent
   * nothing yet (a preconnect): closed either way once it has been silent for a second from
   * its accept (behind TLS, its handshake), not kept until `firstByteTimeout`.
   *
   * `'expire'` is for a server behind a proxy that keeps upstream connections alive (nginx's
   * `keepalive`): a connection closed by the server at the moment the proxy sends a request on
   * it is reset, and the proxy answers a POST it sent there `502` (it retries only idempotent
   * requests). When the proxy drops idle connections before the server would (nginx's
   * `keepalive_timeout` below `keepAliveTimeout`), the server then never closes a connection
   * the proxy may still use. The price: `close()` may take up to the keep-alive timeout (plus
   * the second Node 24 adds to it) longer. `tsgi serve` uses it on SIGTERM and when a worker
   * is replaced, not on Ctrl-C.
   */
  idle?: 'close' | 'expire' | undefined;
}

/** Every option of {@link CloseOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const CLOSE_OPTIONS = { timeout: true, idle: true } as const satisfies OptionNames<CloseOptions>;

/**
 * Whether `close`'s argument is what Node hands a listener rather than options: a signal's
 * name (`process.once('SIGTERM', server.close)` calls it with `'SIGTERM'`) or an `Event`
 * (`signal.addEventListener('abort', server.close)`).
 */
function isListenerArgument(value: unknown): boolean {
  return typeof value === 'string' ? Object.hasOwn(constants.signals, value) : value instanceof Event;
}

/**
 * The {@link ServerHandle} of `listener`, listening: on the Unix socket `path` when given,
 * else where its address says (a descriptor's socket may be either kind; a cluster worker
 * cannot see the path of a Unix socket its primary listens on, and names none). `close()`
 * sets `state.closing`, closes idle connections as they become idle, and cuts the rest at the
 * earliest deadline asked, marking `shutdown` (the watch of the requests' `tsgi.shutdown_signal`)
 * cut first, so the `tsgi.signal` of a request cut then says the server shuts down; work after
 * the answers still running when it stops waiting is named in `log` (`serve()`'s, standard
 * error by default).
 */
export function handleOf(
  listener: Listener,
  state: ServerState,
  path: string | undefined,
  shutdown: ShutdownWatch,
  log: LogStream = stderrLog,
): ServerHandle {
  const server = listener.server;
  const address = path ?? (server.address() as Partial<AddressInfo> | string | null);
  let url: string;
  let host = 'localhost';
  let port = 0;
  if (typeof address === 'object' && typeof address?.address === 'string') {
    host = address.address;
    port = address.port ?? 0;
    url = `${listener.scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  } else {
    path = typeof address === 'string' ? address : '';
    url = `unix:${path}`;
  }
  let closing: Promise<void> | undefined;
  // Ends the wait for the cut bodies' `return()` (a later `close({ timeout: 0 })`).
  let giveUp: (() => void) | undefined;
  const givenUp = new Promise<void>((resolve) => (giveUp = resolve));
  // Whether `close()` closes idle HTTP/1 connections ('close') or leaves them to expire.
  let closeHttp1 = true;
  let deadline = Infinity;
  let timer: NodeJS.Timeout | undefined;
  // The end of the wait for the work after the answers, at the deadline, once that wait began
  // (none for `timeout: Infinity`: Node would run the timer after 1 ms).
  let workWait = false;
  let workDue: NodeJS.Timeout | undefined;
  const armWorkDue = () => {
    clearTimeout(workDue);
    if (deadline !== Infinity) workDue = setTimeout(giveUp!, Math.max(0, deadline - Date.now()));
  };
  const cutAt = (timeout: number) => {
    if (Date.now() + timeout >= deadline) return;
    deadline = Date.now() + timeout;
    clearTimeout(timer);
    timer = setTimeout(() => {
      shutdown.cut = true;
      listener.closeAll();
    }, timeout);
    timer.unref();
    if (workWait) armWorkDue();
  };
  return {
    server,
    host,
    port,
    path,
    url,
    close(given = {}) {
      // Called as a listener: Node passes the signal's name, an EventTarget the event; no options.
      const options: CloseOptions = isListenerArgument(given) ? {} : given;
      try {
        checkOptions('server.close', options, CLOSE_OPTIONS, 'first');
        checkCloseTimeout(options.timeout);
      } catch (error) {
        return Promise.reject(error);
      }
      const { timeout = 10_000, idle = 'close' } = options;
      if (closing !== undefined) {
        // A later call may close now what an earlier `idle: 'expire'` kept (Ctrl-C after SIGTERM).
        if (options.idle === 'close' && !closeHttp1) {
          closeHttp1 = true;
          listener.closeIdle(true);
        }
        cutAt(timeout);
        if (timeout === 0) giveUp?.();
        return closing;
      }
      closing = new Promise<void>((resolve) => {
        state.closing = true;
        // Long responses (event streams, and apps heeding `tsgi.shutdown_signal`) end now.
        state.shutdown.abort(serverShuttingDown());
        // Connections become idle as their last response ends: close them then (HTTP/1 ones
        // under 'expire' end by their keep-alive timeout, or after that `Connection: close`).
        closeHttp1 = idle === 'close';
        const sweep = setInterval(() => listener.closeIdle(closeHttp1), 25);
        sweep.unref();
        listener.stop(idle, () => {
          clearTimeout(timer);
          clearInterval(sweep);
          // The bodies of the connections cut are closed as their responses emit 'close',
          // which may come after the server's, as do the upgraded sockets' own 'close': wait
          // until the bodies' finally blocks have run, the apps cut before they answered have
          // settled (their access log lines written) and `onUpgradeClosed` heard of each
          // upgraded connection, for `timeout` more (2 s at most: an app or a body awaiting what ignores the signal
          // never settles, and one that heeds it is done in milliseconds).
          // The grace ends this wait only: the work after the answers still has until the deadline.
          let grace: NodeJS.Timeout | undefined;
          const graceOver = new Promise<void>((over) => (grace = setTimeout(over, Math.min(timeout, BODY_CLOSE_GRACE))));
          void Promise.race([appsBodiesAndUpgrades(state), graceOver, givenUp]).then(async () => {
            clearTimeout(grace);
            // Then the work run after the answers (`res.callOnClose`), until the deadline.
            if (state.waiting.size > 0) {
              workWait = true;
              armWorkDue();
              await Promise.race([settledAll(state.waiting), givenUp]);
              workWait = false;
              clearTimeout(workDue);
              if (state.waiting.size > 0) noteWorkLeft(log);
            }
            resolve();
          });
        });
        listener.closeIdle(closeHttp1);
      });
      cutAt(timeout);
      return closing;
    },
  };
}

/**
 * Refuses a `close()` timeout a timer cannot keep: no number (`NaN`, `'5000'`), or a finite one
 * past {@link MAX_DELAY}, which Node would run after 1 ms, cutting every connection at once.
 * `Infinity` never cuts (no timer is set); `undefined` is the default.
 *
 * @throws TypeError naming the value.
 */
function checkCloseTimeout(timeout: unknown): void {
  if (timeout === undefined || timeout === Infinity) return;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout > MAX_DELAY) {
    throw new TypeError(`server.close: timeout must be a number of milliseconds from 0 to ${MAX_DELAY}, or Infinity (never cut), got ${shownValue(timeout)}`);
  }
}

/**
 * Settles once no app of `state` is still working on an answer, every body it pumps has
 * closed, and every upgraded connection has emitted its `'close'` (`onUpgradeClosed` told).
 */
async function appsBodiesAndUpgrades(state: ServerState): Promise<void> {
  if (state.answering > 0) await new Promise<void>((resolve) => (state.onAnswered = resolve));
  state.onAnswered = undefined;
  await Promise.all([...state.pumping, ...state.upgraded]);
}

/**
 * Writes to `log` that `close()` stopped waiting for the work handed over after the answers
 * (`res.callOnClose`, `tsgi.wait_until`, the promise of an `async` `onUpgradeClosed` or
 * `onRefused`) still running: `tsgi: the graceful close stopped waiting at its timeout for the
 * work still running after the answers (res.callOnClose, tsgi.wait_until, onUpgradeClosed, onRefused):
 * it ends with the process`. (No count: a request's upload cleanup is handed
 * over too, chained after its work.) Never throws (a failing `log` falls back to standard
 * error, as `logError` does).
 */
function noteWorkLeft(log: LogStream): void {
  const line =
    'tsgi: the graceful close stopped waiting at its timeout for the work still running after' +
    ' the answers (res.callOnClose, tsgi.wait_until, onUpgradeClosed, onRefused): it ends with the process\n';
  writeLineOrStderr(log, line);
}

/** Settles once every promise in `waiting` has, including those added meanwhile. */
async function settledAll(waiting: Set<Promise<unknown>>): Promise<void> {
  while (waiting.size > 0) await Promise.allSettled(waiting);
}
