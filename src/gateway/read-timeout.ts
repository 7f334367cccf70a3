/**
 * The clock of a request body's reads: how long a read may wait for the client's next bytes
 * (the Node adapter's `bodyTimeout`, nginx's `client_body_timeout`).
 *
 * One {@link ReadTimeout} per server watches every read of its requests' bodies that waits, on
 * one interval timer that runs while some read waits: a read that waits is linked into a list
 * through its own fields, neither a timer nor an allocation of its own (a small POST, whose body the app asks for a moment before Node
 * has buffered it, waits for a tick on every request).
 *
 * @module
 */

/** The method a {@link ReadTimeout} calls on a read that waited too long, with the error to fail with. */
export const expireRead: unique symbol = Symbol('tsgi.expire_read');
/** A waiting read's neighbours in its {@link ReadTimeout}'s list, and when its wait began. */
export const waitPrevious: unique symbol = Symbol('tsgi.wait_previous');
export const waitNext: unique symbol = Symbol('tsgi.wait_next');
export const waitSince: unique symbol = Symbol('tsgi.wait_since');

/**
 * A read of a request body that a {@link ReadTimeout} watches while it waits. The watch keeps
 * the waiting reads in a list threaded through the reads themselves, so a wait allocates
 * nothing: a read starts with `[waitSince]` -1 and both neighbours `undefined`.
 */
export interface TimedRead {
  /** The read waited past the limit: it fails with `error` (see {@link isReadTimeout}). */
  [expireRead](error: object): void;
  [waitPrevious]: TimedRead | undefined;
  [waitNext]: TimedRead | undefined;
  /** The watch's clock when the wait began; -1 while the read does not wait. */
  [waitSince]: number;
}

/** The errors {@link ReadTimeout} made: see {@link isReadTimeout}. */
const expiredReads = new WeakSet<object>();

/**
 * True for the error a read of a request body failed with because no data came within its
 * {@link ReadTimeout}: the client's doing (a stalled upload), answered as the adapter made it
 * (its `408`), never logged as the app's failure, even when a raw app lets it propagate.
 */
export function isReadTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && expiredReads.has(error);
}

/**
 * A limit on how long a read of a request body may wait for its next bytes, shared by the
 * reads of one server's requests. A read {@link wait}s when it finds nothing to take, and is
 * {@link done} when bytes, the end or an error came (or it stopped); one that waited `ms` or
 * longer is failed (`[expireRead]`) at the next check. Checks come every quarter of `ms`
 * (from 10 ms to 1 s), so a read fails between `ms` and `ms` plus two checks after its wait
 * began (60 to 62 s for nginx's default of 60 s).
 */
export class ReadTimeout {
  /** Milliseconds a read may wait for data, above 0. */
  readonly ms: number;
  /** Makes the error a read that waited too long fails with (the adapter's `408`). */
  readonly #expired: () => object;
  /** Milliseconds between two checks. */
  readonly #period: number;
  /** Whole checks a read may wait through: past them, it waited `ms` at least. */
  readonly #checks: number;
  /** Checks made so far: the watch's clock. */
  #now = 0;
  /** The first of the reads that wait (the list runs through their `[waitNext]`). */
  #first: TimedRead | undefined = undefined;
  /** The interval of the checks, while a read waits. */
  #timer: NodeJS.Timeout | undefined = undefined;

  /**
   * @param ms - milliseconds a read may wait, above 0 and at most 2147483647 (the caller checks).
   * @param expired - makes the error of a read that waited too long.
   */
  constructor(ms: number, expired: () => object) {
    this.ms = ms;
    this.#expired = expired;
    this.#period = Math.min(1000, Math.max(10, Math.floor(ms / 4)));
    this.#checks = Math.ceil(ms / this.#period);
  }

  /** `read` begins to wait for data (again: its clock starts over). */
  wait(read: TimedRead): void {
    const waiting = read[waitSince] >= 0;
    read[waitSince] = this.#now;
    if (waiting) return;
    const first = this.#first;
    read[waitPrevious] = undefined;
    read[waitNext] = first;
    if (first !== undefined) first[waitPrevious] = read;
    this.#first = read;
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#check, this.#period);
      this.#timer.unref();
    }
  }

  /** `read` waits no more: data, the end or an error came, or it stopped. */
  done(read: TimedRead): void {
    if (read[waitSince] < 0) return;
    read[waitSince] = -1;
    const previous = read[waitPrevious];
    const next = read[waitNext];
    if (previous === undefined) this.#first = next;
    else previous[waitNext] = next;
    if (next !== undefined) next[waitPrevious] = previous;
    read[waitPrevious] = read[waitNext] = undefined;
  }

  /**
   * Fails the reads that waited through more than {@link #checks} checks. The wait of one began
   * at most a period before the check after it, so it waited `ms` at least; the interval stops
   * when no read waits.
   */
  #check = (): void => {
    const now = ++this.#now;
    let read = this.#first;
    while (read !== undefined) {
      const next = read[waitNext];
      if (now - read[waitSince] > this.#checks) {
        this.done(read);
        const error = this.#expired();
        expiredReads.add(error);
        read[expireRead](error);
      }
      read = next;
    }
    if (this.#first === undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  };
}
