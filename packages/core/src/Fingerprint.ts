/**
 * The machine-identity service: what a licensing client needs to know about the machine it runs on, in the
 * form the activation request wants it. `@licensure/fingerprint` provides the Node layer; `layerStatic` here
 * serves tests, simulations and platforms that compute their own identity.
 *
 * A fingerprint is product-salted (two vendors can't link a machine) and 64 hex characters, inside the
 * protocol's 64–256 range for custom fingerprints. Its components are hashed separately so that
 * {@link FingerprintService.match} can tell "same machine, a weak component drifted" from "another machine".
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { OsName } from "./Protocol.ts"

/** How much a component says about the machine's identity. */
export const ComponentStrength = Schema.Literals(["primary", "hardware", "weak"])
export type ComponentStrength = typeof ComponentStrength.Type

/** One source of identity, already product-salted and hashed (hex). Raw identifiers never leave the process. */
export const FingerprintComponent = Schema.Struct({
  name: Schema.String,
  strength: ComponentStrength,
  hash: Schema.String
})
export type FingerprintComponent = typeof FingerprintComponent.Type

/**
 * What the activation request says about this machine (protocol §1.1): the fingerprint the server matches, the hashed
 * components behind it, the VM and container facts and the OS facts. A {@link Fingerprint} layer produces it; nothing
 * in it is a raw hardware identifier.
 * @example const id = yield* (yield* Fingerprint).current
 */
export interface MachineIdentity {
  /** Product-salted HMAC-SHA-256 in hex (64 characters). What the server matches exactly. */
  readonly fingerprint: string
  /**
   * The separately hashed sources the fingerprint was built from, kept with the activation so that a later
   * `FingerprintService.match` can tell drift from a different machine.
   */
  readonly components: ReadonlyArray<FingerprintComponent>
  /** Hypervisor name for the request's `vmName`, when one was detected. */
  readonly vmName: string | undefined
  /** True inside a container (Docker, Podman, Kubernetes, WSL counts as false: it is a VM). */
  readonly container: boolean
  /** The container runtime, when `container` is true and a layer could tell. */
  readonly containerKind?: "docker" | "podman" | "kubernetes" | "lxc" | "unknown" | undefined
  /** The OS family as the wire names it (`windows`, `macos`, `linux`, …); the request's `os` field. */
  readonly os: OsName
  /** The OS release as the platform reports it (e.g. `10.0.22631`, `6.8.0-45-generic`); the request's `osVersion`. */
  readonly osVersion: string
  /**
   * The machine's host name, sent as the request's `hostname` so a vendor can recognise the activation in the
   * dashboard.
   */
  readonly hostname: string
  /** SHA-256 hex of the OS user name (protocol §1.1 `userHash`). */
  readonly userHash: string
  /** Which sources were read, e.g. `["/etc/machine-id", "dmi:product_uuid"]`, or `["generated"]`. */
  readonly sources: ReadonlyArray<string>
}

/** exact: same fingerprint. sameMachine: primary id equal but a weaker component drifted. different: other machine. */
export type FingerprintMatch = "exact" | "sameMachine" | "different"

/**
 * The machine's identity could not be read (a source unreadable, the platform unsupported, hashing failed); `message`
 * says which source and why. Activation fails with it rather than sending a made-up fingerprint.
 */
export class FingerprintError extends Schema.TaggedError<FingerprintError>()("FingerprintError", {
  message: Schema.String
}) {}

/** The {@link Fingerprint} service's shape: read the current identity, and compare two sets of component hashes. */
export interface FingerprintService {
  /**
   * This machine's identity, read afresh on each run; fails with {@link FingerprintError} when a required source
   * cannot be read.
   */
  readonly current: Effect.Effect<MachineIdentity, FingerprintError>
  /**
   * Compares the components stored with an activation against the current ones: `exact`, `sameMachine` (a weak
   * component drifted) or `different`. Pure, never fails.
   * @example fp.match(record.components, (yield* fp.current).components) // "sameMachine"
   */
  readonly match: (
    stored: ReadonlyArray<FingerprintComponent>,
    current: ReadonlyArray<FingerprintComponent>
  ) => FingerprintMatch
}

/**
 * The default match rule, shared by every layer: all component hashes equal → exact; the primary component
 * equal (or, with no primary, every hardware component equal) → sameMachine; otherwise different.
 */
export const matchComponents = (
  stored: ReadonlyArray<FingerprintComponent>,
  current: ReadonlyArray<FingerprintComponent>
): FingerprintMatch => {
  const key = (c: FingerprintComponent) => `${c.name}:${c.hash}`
  const a = new Set(stored.map(key))
  const b = new Set(current.map(key))
  if (a.size === b.size && [...a].every((k) => b.has(k))) return "exact"
  const primaryA = stored.filter((c) => c.strength === "primary").map(key)
  const primaryB = new Set(current.filter((c) => c.strength === "primary").map(key))
  if (primaryA.length > 0) return primaryA.every((k) => primaryB.has(k)) ? "sameMachine" : "different"
  const hwA = stored.filter((c) => c.strength === "hardware").map(key)
  const hwB = new Set(current.filter((c) => c.strength === "hardware").map(key))
  return hwA.length > 0 && hwA.every((k) => hwB.has(k)) ? "sameMachine" : "different"
}

/**
 * The machine-identity service every licensing client reads. `@licensure/fingerprint` provides the Node layer;
 * `layerStatic` and `layerMutable` here give fixed identities for tests and simulations.
 * @example Effect.provide(program, Fingerprint.layerStatic(identity))
 */
export class Fingerprint extends Context.Service<Fingerprint, FingerprintService>()("@licensure/core/Fingerprint") {
  /** A fixed identity: for tests, simulations, fleets of virtual machines in one process. */
  static readonly layerStatic = (identity: MachineIdentity): Layer.Layer<Fingerprint> =>
    Layer.succeed(Fingerprint, Fingerprint.of({ current: Effect.succeed(identity), match: matchComponents }))

  /** A mutable identity for tests that change the machine under a running client. */
  static readonly layerMutable = (
    initial: MachineIdentity
  ): Layer.Layer<Fingerprint> & {
    /** Replaces the identity every later `current` returns, as if the machine changed under the running client. */
    readonly set: (next: MachineIdentity) => void
  } => {
    let identity = initial
    const layer = Layer.succeed(
      Fingerprint,
      Fingerprint.of({ current: Effect.sync(() => identity), match: matchComponents })
    )
    return Object.assign(layer, {
      set: (next: MachineIdentity) => {
        identity = next
      }
    })
  }
}
