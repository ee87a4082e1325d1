const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the (only) thread: runts commands are synchronous, polling loops are short. */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
