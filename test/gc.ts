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
