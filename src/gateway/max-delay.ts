/**
 * The longest delay a timer keeps ({@link MAX_DELAY}), for the options that set one.
 *
 * @module
 */

/**
 * The largest delay `setTimeout` keeps: 2^31 − 1 ms (about 24.8 days). Node runs a timer of a
 * longer delay after 1 ms (with a `TimeoutOverflowWarning`), so a time limit set past it
 * would expire at once: options that set one refuse a longer value.
 */
export const MAX_DELAY = 2_147_483_647;
