/**
 * One line to licence a Node or Electron app: `NodeLicensing.layer(config)` wires core's `Licensing` to the Node
 * fingerprint, the durable encrypted file store and the Node HTTP client; `createNodeLicensing(config)` is the
 * same for applications that don't use Effect.
 *
 * @example
 * const licensing = createNodeLicensing({ productId, publicKeyPem })
 * await licensing.activate(process.env.LICENSE_KEY!)
 * licensing.subscribe((view) => console.log(view.state))
 *
 * @since 0.1.0
 */
// Core by module, not its root: the root also loads releases, user login, meters and entitlements (and their
// schemas), which an app that only activates and checks never calls; `licensure status` imports this file.
import { FeatureEntitlementsApi } from "@licensure/core/FeatureEntitlements"
import { Fingerprint } from "@licensure/core/Fingerprint"
import { LicenseApi, type LicenseApiConfig } from "@licensure/core/LicenseApi"
import { LicenseStore } from "@licensure/core/LicenseStore"
import { Licensing } from "@licensure/core/Licensing"
import { type LicensingConfig, LicensingConfigError, schemaProblem } from "@licensure/core/LicensingConfig"
import { createLicensing, type PromiseLicensing } from "@licensure/core/PromiseLicensing"
import { NodeFingerprint } from "@licensure/fingerprint"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as NodeFileStore from "./NodeFileStore.ts"
import * as NodeHttp from "./NodeHttp.ts"
import type { StoreScope } from "./Paths.ts"
import * as StoreWatch from "./StoreWatch.ts"

/**
 * The options of {@link createNodeLicensing} and `NodeLicensing.layer`: the product (`productId`, `publicKeyPem`,
 * from `LicensingConfig`) plus where the server, the licence file and the machine identity are. An option that is
 * wrong makes `createNodeLicensing` throw a `LicensingConfigError` at once, naming the option, what it expected
 * and what came.
 */
export interface NodeLicensingConfig extends LicensingConfig {
  /** `"default"` (api.cryptlex.com), `"eu"`, or an on-premise / emulator base URL. */
  readonly host?: LicenseApiConfig["host"]
  /** `"user"` (default), `"system"` (shared by all users), or `"memory"` (this process only). */
  readonly scope?: StoreScope | "memory" | undefined
  /** Where the licence file lives; default the platform's usual data directory. */
  readonly directory?: string | undefined
  /** Timeouts (milliseconds), proxy and extra trusted CAs for the HTTP client. */
  readonly http?: NodeHttp.NodeHttpOptions | undefined
  /** Fingerprint options (a fake root for tests, a data dir for the generated id). */
  readonly fingerprint?: Omit<NodeFingerprint.NodeFingerprintOptions, "productId"> | undefined
  /** The `User-Agent` header; default `licensure-node/<node version>`. */
  readonly userAgent?: string | undefined
  /**
   * Notice when another process (another instance of the app, `licensure sync` in a shell) changes the stored
   * record, and re-evaluate (`Licensing.reload`): several processes of one app then agree about the licence.
   * Default `false`; ignored for `scope: "memory"`.
   *
   * DECISION: off by default in the library. Most apps run one process per machine, where the watch only costs a
   * file-system handle per client (a fleet simulation holds a thousand in one process); an app with several
   * processes asks for it. `licensure watch`, whose whole job is to show the licence as it stands, turns it on.
   */
  readonly watchStore?: boolean | undefined
}

/** The platform services for one product on Node: fingerprint, store (keyed by the fingerprint), HTTP API. */
export const platformLayer = (
  config: NodeLicensingConfig
): Layer.Layer<LicenseApi | FeatureEntitlementsApi | LicenseStore | Fingerprint> => {
  const fingerprint = NodeFingerprint.layer({ productId: config.productId, ...config.fingerprint })
  const scope = config.scope
  const store =
    scope === "memory"
      ? LicenseStore.layerMemory
      : Layer.unwrap(
          Effect.gen(function* () {
            const fp = yield* Fingerprint
            // DECISION: when the machine identity cannot be read at all, the store still opens with the product id
            // as key material, so the app gets a status (and a re-activation) instead of a start-up failure.
            const identity = yield* Effect.result(fp.current)
            return NodeFileStore.layer({
              productId: config.productId,
              fingerprint: identity._tag === "Success" ? identity.success.fingerprint : `unknown:${config.productId}`,
              ...(scope !== undefined ? { scope } : {}),
              ...(config.directory !== undefined ? { directory: config.directory } : {})
            })
          })
        )
  const apiConfig = { host: config.host, userAgent: config.userAgent ?? `licensure-node/${process.versions.node}` }
  const http = NodeHttp.layer(config.http ?? {})
  const api = LicenseApi.layer(apiConfig).pipe(Layer.provide(http))
  // The feature entitlements are fetched after each activation and sync (LicenseOperations), as LexActivator does.
  const entitlements = FeatureEntitlementsApi.layer(apiConfig).pipe(Layer.provide(http))
  return Layer.mergeAll(api, entitlements, store.pipe(Layer.provide(fingerprint)), fingerprint)
}

/** The store watch for a running client, when the configuration asks for one (see `watchStore`). */
/** Where the file store keeps this product's record (a memory scope has none; its watch never starts). */
const recordPath = (config: NodeLicensingConfig) =>
  NodeFileStore.filePath({
    productId: config.productId,
    ...(config.scope !== undefined && config.scope !== "memory" ? { scope: config.scope } : {}),
    ...(config.directory !== undefined ? { directory: config.directory } : {})
  })

/**
 * The record file as it is before the client is built, when the configuration asks for a watch. DECISION: the
 * client reads its record at start-up (as soon as its operations exist) and its watch can only start once the
 * client is built; another process's write landing between the two sends no file event the watch could see, and
 * the client would keep the record it read until the next change. The watch starts from this mark instead, and a
 * file that moved since is reloaded once (a reload of what the client already holds changes nothing).
 */
const watchMark = (config: NodeLicensingConfig): StoreWatch.Mark | undefined =>
  config.watchStore === true && config.scope !== "memory" ? StoreWatch.mark(recordPath(config)) : undefined

const watchRecord = (
  config: NodeLicensingConfig,
  licensing: Licensing["Service"],
  since: StoreWatch.Mark | undefined
) =>
  Effect.gen(function* () {
    if (config.watchStore !== true || config.scope === "memory") return
    const runFork = yield* FiberSet.makeRuntime<never, unknown, never>()
    yield* StoreWatch.start({
      path: recordPath(config),
      since,
      // A record that cannot be used is the view's `lastError`; nothing is thrown at the app.
      onChange: () => runFork(Effect.ignore(licensing.reload))
    })
  })

const StringList = Schema.Union([Schema.String, Schema.Array(Schema.String)])
const Millis = Schema.Int.check(Schema.isGreaterThan(0)).annotate({
  expected: "a positive whole number of milliseconds"
})
const Env = Schema.Record(Schema.String, Schema.UndefinedOr(Schema.String))
const AFunction = Schema.declare((u: unknown): u is (...args: never) => unknown => typeof u === "function", {
  expected: "a function"
})

/**
 * What the Node options look like, beside core's `LicensingConfigSchema`: checked when the client is made, so a
 * wrong type shows at once (naming the option, what was expected and what came), not at the first request. The
 * host's URL and the proxy's URL are parsed after it ({@link nodeOptionsProblem}).
 */
const NodeOptionsSchema = Schema.Struct({
  host: Schema.optional(Schema.String),
  // The scope's literals are checked by name below, with the message the CLI's users know.
  scope: Schema.optional(Schema.String),
  directory: Schema.optional(Schema.NonEmptyString),
  http: Schema.optional(
    Schema.Struct({
      connectTimeout: Schema.optional(Millis),
      readTimeout: Schema.optional(Millis),
      proxy: Schema.optional(
        // A string is matched against the literals, whose message names the object form as well.
        Schema.Union([
          Schema.Literals(["env", "none"]).annotate({ expected: '"env", "none" or { url, noProxy? }' }),
          Schema.Struct({ url: Schema.String, noProxy: Schema.optional(StringList) })
        ])
      ),
      env: Schema.optional(Env),
      ca: Schema.optional(StringList)
    })
  ),
  fingerprint: Schema.optional(
    Schema.Struct({
      root: Schema.optional(Schema.String),
      env: Schema.optional(Env),
      platform: Schema.optional(Schema.String),
      arch: Schema.optional(Schema.String),
      hostname: Schema.optional(Schema.String),
      username: Schema.optional(Schema.String),
      osVersion: Schema.optional(Schema.String),
      runCommand: Schema.optional(AFunction),
      dataDir: Schema.optional(Schema.String)
    })
  ),
  userAgent: Schema.optional(Schema.String),
  watchStore: Schema.optional(Schema.Boolean)
})

/**
 * What is wrong with the Node options core does not know, or `undefined`: their types (`NodeOptionsSchema` above),
 * then the host's URL (http or https, with a host) and the HTTP client's options (`NodeHttp.optionsProblem`: the
 * proxy's URL, and undici where a proxy, CAs or timeouts need it).
 */
export const nodeOptionsProblem = (config: NodeLicensingConfig): string | undefined => {
  const typed = schemaProblem(NodeOptionsSchema, config)
  if (typed !== undefined) return typed.message.replace(/^invalid licensing configuration: /, "")
  const { host, scope } = config
  if (host !== undefined && host !== "default" && host !== "eu") {
    let url: URL | undefined
    try {
      url = typeof host === "string" ? new URL(host) : undefined
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
      return `host: expected "default", "eu" or an http(s) URL with a host, got ${JSON.stringify(host)}`
    }
  }
  if (scope !== undefined && scope !== "user" && scope !== "system" && scope !== "memory") {
    return `scope: expected "user", "system" or "memory", got ${JSON.stringify(scope)}`
  }
  const http = config.http === undefined ? undefined : NodeHttp.optionsProblem(config.http)
  return http === undefined ? undefined : `http: ${http}`
}

const nodeConfigError = (problem: string) =>
  new LicensingConfigError({ message: `invalid licensing configuration: ${problem}` })

/** `Licensing` for Node, with every platform service wired. */
export const layer = (
  config: NodeLicensingConfig
): Layer.Layer<Licensing | LicenseStore | Fingerprint | LicenseApi, LicensingConfigError> =>
  Layer.unwrap(
    Effect.suspend(() => {
      const problem = nodeOptionsProblem(config)
      if (problem !== undefined) return Effect.fail(nodeConfigError(problem))
      // Taken as the layer is built, before the client (and its start-up read) is.
      const since = watchMark(config)
      return Effect.succeed(
        Layer.effectDiscard(Effect.flatMap(Licensing, (licensing) => watchRecord(config, licensing, since))).pipe(
          Layer.provideMerge(Licensing.layer(config)),
          Layer.provideMerge(platformLayer(config))
        )
      )
    })
  )

/**
 * The Promise face on Node.
 *
 * @throws {LicensingConfigError} synchronously, when an option is wrong (nothing has started then).
 */
export const createNodeLicensing = (config: NodeLicensingConfig): PromiseLicensing => {
  const problem = nodeOptionsProblem(config)
  if (problem !== undefined) throw nodeConfigError(problem)
  // Taken before the client is built (its start-up read begins with the first call, below or the app's).
  const since = watchMark(config)
  const licensing = createLicensing({ ...config, layer: platformLayer(config) })
  if (config.watchStore === true && config.scope !== "memory") {
    // Lives until `close()`; a watch that cannot start leaves the client as it would be without one.
    licensing.use((service) => watchRecord(config, service, since)).catch(() => {})
  }
  return licensing
}
