/**
 * The requests a `serve()` server is still answering, read through its listening `net.Server`
 * (`ServerHandle.server`) from outside the adapter: `tsgi serve` counts them when its graceful
 * shutdown runs out, so that idle connections closed then do not read as requests cut.
 *
 * @module
 */
import type { Server as NetServer } from 'node:net';
import type { ServerState } from './state.ts';

/** What {@link requestsBeingAnswered} reads of a server's state. */
type AnswerCounts = Pick<ServerState, 'answering' | 'pumping' | 'upgraded'>;

/** The state of each server `serve()` made, by its listening server. */
const STATES = new WeakMap<NetServer, AnswerCounts>();

/** Records `state` as the one of `server`, for {@link requestsBeingAnswered}. */
export function keepAnswerCounts(server: NetServer, state: AnswerCounts): void {
  STATES.set(server, state);
}

/**
 * How many requests `server` (a `serve()` handle's `server`) is answering now: those whose app
 * still works on its answer (its promise pending: `ServerState.answering`) and those whose
 * streamed body is still being sent (`ServerState.pumping`), on HTTP/1 connections and HTTP/2
 * streams alike. Counted from what `close()` already keeps, so serving pays nothing for it: an
 * answer given whole (an array body) is done once handed to Node, even while a slow client
 * still reads it; an upgraded connection (a WebSocket) and a request whose head is still
 * arriving count as none. `undefined` for a server `serve()` did not make.
 */
export function requestsBeingAnswered(server: NetServer): number | undefined {
  const state = STATES.get(server);
  return state === undefined ? undefined : state.answering + state.pumping.size;
}

/**
 * How many connections of `server` (a `serve()` handle's `server`) handed to its `upgrade`
 * handler (WebSockets) are still open: `tsgi serve` names those it cuts at the end of its
 * graceful shutdown apart from idle ones. `undefined` for a server `serve()` did not make.
 */
export function upgradedConnectionsOpen(server: NetServer): number | undefined {
  return STATES.get(server)?.upgraded.size;
}
