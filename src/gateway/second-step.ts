/**
 * The body's second step, which a server asks for while it holds the head (docs/spec.md §4,
 * §6): `serve()`'s pump, `toFetchHandler` and the `TestClient` ask and wait for it alike.
 *
 * @module
 */
import type { BodyIterator } from './body.ts';
import { STOP, type StreamStop } from './shutdown.ts';
import { raceImmediate } from './race-immediate.ts';

type Step = IteratorResult<Uint8Array>;

/**
 * Asks `iterator` for the step after its first chunk `chunk`, for which the head waits (a
 * first chunk followed at once by the end goes out with a `Content-Length`). An empty first
 * chunk commits the head (spec §4, §6): nothing is asked, the head goes out now, and what the
 * body does next (a `startResponse` with an error, which throws then) comes after it: a
 * failure is a cut, never a complete-looking `500`.
 *
 * @returns the step, in hand or pending; `undefined` after an empty first chunk.
 */
export function askSecondStep(iterator: BodyIterator, chunk: Uint8Array): Step | Promise<Step> | undefined {
  return chunk.byteLength === 0 ? undefined : (iterator.next() as Step | Promise<Step>);
}

/**
 * How long the head waits for the pending second step: resolves with it if it settles within
 * this turn of the event loop (`raceImmediate`), with {@link STOP} when `stop` (an event
 * stream's) ends the stream first, else with `undefined`: the head goes out then.
 *
 * @throws (rejects with) what the step rejects with within that turn.
 */
export function secondStepInTurn(pending: PromiseLike<Step>, stop: StreamStop | undefined): Promise<Step | typeof STOP | undefined> {
  return raceImmediate(stop === undefined ? pending : (stop.race(pending) as PromiseLike<Step | typeof STOP>));
}
