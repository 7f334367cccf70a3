/**
 * How long `tsgi serve --workers` waits before replacing a worker that died: at once after a
 * worker that ran for a while (a crash on one bad request), then longer and longer while
 * workers keep dying soon after they start (a broken deploy, a database that is down), so a
 * crash loop does not burn the CPU or flood the log.
 *
 * @module
 */

/** A worker that lived this long (milliseconds) ends a streak of quick deaths. */
export const STABLE_TIME = 10_000;
/** The first pause of a streak (milliseconds); each further quick death doubles it. */
export const FIRST_DELAY = 500;
/** The longest pause (milliseconds). */
export const MAX_DELAY = 30_000;

/** The back-off of one primary: a streak of quick deaths and the pause it calls for. */
export class Backoff {
  #streak = 0;
  /** When the last quick death came (ms since the epoch), and the pause it was given. */
  #last = -Infinity;
  #lastDelay = 0;

  /**
   * The pause before replacing a worker that died after `lifetime` milliseconds, at `now`: 0
   * when it lived {@link STABLE_TIME} or more (the streak starts over), else 0.5 s, 1 s, 2 s, …
   * up to {@link MAX_DELAY}. A streak also ends when no worker died for {@link STABLE_TIME}
   * past the last pause (the replacement it made lived that long): a quick death after a
   * quiet spell (a fresh worker of a deploy, days after a crash loop) starts again at 0.5 s.
   */
  next(lifetime: number, now: number = Date.now()): number {
    if (lifetime >= STABLE_TIME) {
      this.#streak = 0;
      return 0;
    }
    if (now - this.#last >= this.#lastDelay + STABLE_TIME) this.#streak = 0;
    this.#streak++;
    const delay = Math.min(FIRST_DELAY * 2 ** (this.#streak - 1), MAX_DELAY);
    this.#last = now;
    this.#lastDelay = delay;
    return delay;
  }

  /**
   * Ends the streak, as a SIGHUP does when it ends a pause (a deploy: the new code may not
   * crash): the next quick death pauses {@link FIRST_DELAY} again.
   */
  reset(): void {
    this.#streak = 0;
    this.#last = -Infinity;
    this.#lastDelay = 0;
  }
}
