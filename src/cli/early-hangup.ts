/**
 * SIGHUP while `tsgi` itself starts: Node's default action for SIGHUP ends the process (status
 * 129, which systemd counts as a clean stop, so `Restart=on-failure` leaves the service down),
 * and the command's own handler (a TLS renewal or a log line in one process, a round of
 * replacements under `--workers`, a stop under `--reload`) exists only once tsgi's modules have
 * loaded: up to seconds after the start on a loaded machine. A `systemctl reload` (or a
 * certificate renewal's hook, a `systemctl kill -s HUP` reaching a worker being started) in that
 * time ended the server. The executable holds SIGHUP from its first instruction instead, and each
 * command takes over once its handler is in place.
 *
 * @module
 */

let held = false;
const hold = (): void => {
  held = true;
};

/** From now on a SIGHUP does not end the process: one that comes before {@link releaseHangups} is held. */
export function holdHangups(): void {
  process.on('SIGHUP', hold);
}

/**
 * Stops holding SIGHUP: call it once the command's own SIGHUP handler is installed (removing
 * the hold before would give the signal back to Node's default action). Answers whether one
 * came while it was held, for the command to handle now if it still means something.
 */
export function releaseHangups(): boolean {
  process.off('SIGHUP', hold);
  const came = held;
  held = false;
  return came;
}
