/**
 * Noticing, under `toFetchHandler`, a client that goes away while the app has not answered,
 * for the layers that watch for it (`watchClientGone`: `accessLog` logs its 499 then), through
 * the request's `signal`, which Bun, Deno and `@hono/node-server` abort when the client
 * disconnects (as the Node adapter does through the connection's `close`).
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import type { HeadWait } from '../../gateway/server-status.ts';
import { tellClientGone } from '../../gateway/client-gone.ts';

/**
 * The {@link HeadWait} `toFetchHandler` lends a request (`tsgi.head_settled`), with a `gone`
 * slot: it is also the `abort` listener on the request's signal (`handleEvent`), so watching
 * costs no closure, and nothing (not even reading `request.signal`, which runtimes create on
 * first read) until a layer watches.
 */
export class FetchHeadWait implements HeadWait {
  pending: Array<() => void> | null | undefined = undefined;
  gone: (() => void) | Array<() => void> | false | null = false;
  /** The request's signal while this wait listens to it (a layer watches and the app works). */
  private signal: AbortSignal | undefined = undefined;
  private readonly environ: Environ;

  constructor(environ: Environ) {
    this.environ = environ;
  }

  /** The first watch was set: listens to the request's signal (told at once when it aborted already). */
  watchingGone(): void {
    if (this.signal !== undefined) return;
    const signal = (this.environ['tsgi.fetch_request'] as globalThis.Request).signal;
    if (signal.aborted) {
      tellClientGone(this.environ);
      return;
    }
    this.signal = signal;
    signal.addEventListener('abort', this, { once: true });
  }

  /** The request's signal aborted (the client went away): tells the watches. */
  handleEvent(): void {
    this.signal = undefined;
    tellClientGone(this.environ);
  }

  /**
   * The app answered (its promise settled, or it threw): a client leaving from now on is the
   * body stream's business (its `cancel`), and the signal no longer holds this request.
   */
  appSettled(): void {
    if (this.gone) this.gone = false;
    const signal = this.signal;
    if (signal === undefined) return;
    this.signal = undefined;
    signal.removeEventListener('abort', this);
  }
}
