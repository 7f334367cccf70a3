/**
 * `tsgi serve` and unhandled promise rejections: where Node would end the process at once
 * (its default, `--unhandled-rejections=throw`, with no handler of the app's), the server stops
 * gracefully instead and the process exits 1. Installed by the CLI only, once serving: neither
 * importing tsgi nor `serve()` touches the process's handlers.
 *
 * @module
 */
import { inspect } from 'node:util';
import type { CliLog } from './log.ts';

/** What {@link watchRejections} answers. */
export interface Rejections {
  /** Resolves with the reason to stop (for the log) at the first unhandled rejection. */
  readonly first: Promise<string>;
  /** True once there was one: the process then exits 1. */
  happened(): boolean;
  /** Removes the handler (once the server has closed). */
  dispose(): void;
}

const NONE: Rejections = { first: new Promise(() => {}), happened: () => false, dispose() {} };

/**
 * The `--unhandled-rejections` mode Node runs with (`throw`, `strict`, `warn`, `none`,
 * `warn-with-error-code`): the last one given, on the command line (`execArgv`, which workers
 * and the child of `--reload` inherit) before `NODE_OPTIONS`; `throw` (Node's default) when
 * none is.
 */
export function rejectionMode(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string {
  const flag = /(?:^|\s)--unhandled-rejections(?:=|\s+)["']?([\w-]+)/g;
  let mode = 'throw';
  for (const text of [nodeOptions, execArgv.join(' ')]) for (const match of text.matchAll(flag)) mode = match[1]!;
  return mode;
}

/**
 * Takes over unhandled promise rejections (a promise the app created and left without a
 * `catch`: a fire-and-forget call) where they would end the process at once, cutting every
 * request in flight: each is logged (`tsgi: unhandled promise rejection: stopping: <stack>`,
 * as `util.inspect` shows it, its `cause` too; the first at every `--log-level`, as Node's
 * crash would be, the others at `error`), and the first resolves `first`, for the server
 * to stop as on SIGTERM and exit 1 (a supervisor, or the primary of `--workers`, starts it
 * again).
 *
 * Where Node would not end the process, neither does this: under another
 * `--unhandled-rejections` mode than `throw` (`warn`, `none` in `NODE_OPTIONS`: nothing is
 * installed), and while the app has an `unhandledRejection` handler of its own (then the
 * rejection is its to handle, before or after this one was installed).
 */
export function watchRejections(log: CliLog): Rejections {
  if (rejectionMode() !== 'throw') return NONE;
  let happened = false;
  let listener!: (reason: unknown) => void;
  const first = new Promise<string>((resolve) => {
    listener = (reason) => {
      if (process.listenerCount('unhandledRejection') > 1) return; // the app's own handler has it
      // The one that stops the server is said at every --log-level, as Node's crash would be.
      if (happened) log.error(`unhandled promise rejection: ${inspect(reason)}`);
      else log.critical(`unhandled promise rejection: stopping: ${inspect(reason)}`);
      happened = true;
      resolve('after an unhandled promise rejection');
    };
  });
  process.on('unhandledRejection', listener);
  return { first, happened: () => happened, dispose: () => process.off('unhandledRejection', listener) };
}
