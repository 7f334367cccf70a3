/**
 * A notice for what may happen in a flood (connections closed at a limit, handshakes failed on
 * the server's side): written at once the first time, then as a count at most every
 * {@link NOTICE_INTERVAL}, so a flood costs the log a line per interval.
 *
 * @module
 */
import type { LogStream } from '../../gateway/types.ts';

/** Milliseconds between two lines of one {@link throttledNotice}: 10 000 (10 s). */
export const NOTICE_INTERVAL = 10_000;

/**
 * A notice written to `log` (as `tsgi: <line>`) for something that may happen in a flood: the
 * first time at once (`first`, given what the call names), then at most once per
 * {@link NOTICE_INTERVAL} (10 s), as `summary` of how many happened meanwhile; nothing once
 * it stops. A `log` that throws is ignored.
 */
export function throttledNotice(log: LogStream, first: (detail: string) => string, summary: (count: number) => string): (detail: string) => void {
  let quiet: NodeJS.Timeout | undefined;
  let count = 0;
  const write = (line: string) => {
    try {
      log.write(`tsgi: ${line}\n`);
    } catch {
      // A failing log must not stop the server.
    }
  };
  const summarize = () => {
    quiet = undefined;
    if (count === 0) return;
    write(summary(count));
    count = 0;
    quiet = setTimeout(summarize, NOTICE_INTERVAL).unref();
  };
  return (detail) => {
    if (quiet !== undefined) {
      count++;
      return;
    }
    write(first(detail));
    quiet = setTimeout(summarize, NOTICE_INTERVAL).unref();
  };
}
