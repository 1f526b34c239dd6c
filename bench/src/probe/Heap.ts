/**
 * Heap figures for the probes: only comparable after full collections, so a probe must run with --expose-gc; one
 * without it exits 2 saying so.
 */
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error("run with --expose-gc: heap figures are only comparable after a full collection")
  process.exit(2)
}
const collect = gc

/** Bytes of heap in use after two full collections (the second frees what the first's finalizers released). */
export const heapAfterGc = (): number => {
  collect()
  collect()
  return process.memoryUsage().heapUsed
}
