/**
 * docs/server.md's WebSocket heartbeat, shared by the tests that drive its recipe: a ping
 * every `interval` ms, and a peer that answered no ping since the last one terminated (one
 * gone without a close, which `ws` alone keeps open for ever).
 *
 * @module
 */
import type { WebSocket } from 'ws';

/** Starts the heartbeat of `ws`, every `interval` ms; stopped when `ws` closes. */
export function heartbeat(ws: WebSocket, interval: number): void {
  let alive = true;
  ws.on('pong', () => (alive = true));
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, interval);
  ws.on('close', () => clearInterval(timer));
}
