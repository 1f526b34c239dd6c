/**
 * `@licensure/testing`: what a user's own test suite needs. The simulation harness (`makeSim`, `drive`,
 * `settled`, `emulatorLayer`) runs one licensing client and one in-process emulator on the same `TestClock`; the
 * emulator itself (`createEmulator`, `startEmulator`, its admin API types) is re-exported so that one dependency
 * is enough.
 *
 * @since 0.1.0
 */
export * from "./Simulation.ts"
export * from "@licensure/emulator"
