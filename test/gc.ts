/**
 * V8's `gc()` for the memory tests (what a client gone, a stuck handler or a closed stream
 * leaves alive): `--expose-gc` is turned on for this worker, and the function taken from a new
 * context, where the flag makes it a global (the worker's own global object was made before).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');

/** A full, synchronous collection. */
export const gc = vm.runInNewContext('gc') as () => void;

/**
 * A full collection after which `process.memoryUsage().arrayBuffers` counts only live buffers.
 * V8 frees the backing stores of dead array buffers on a background thread once the collection
 * is over, and a busy machine delays that sweep: one `gc()` left up to 36 MiB of freed buffers
 * counted in a CI run. The next collection finishes the sweep before it starts, so this is two.
 */
export function gcBuffers(): void {
  gc();
  gc();
}
