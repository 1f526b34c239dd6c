/**
 * The `licensure` CLI as a function: `run(args, io)` resolves with the exit code and writes only through `io`, so
 * the bin is a thin shell around it. Each licensing command opens one client (`createNodeLicensing`) and closes it
 * before resolving, so that no timer or socket keeps the process alive once the command is done; `watch` and
 * `emulator` run until `io.interrupted` resolves (SIGINT or SIGTERM in the bin), then close the same way.
 *
 * Errors are sorted into three kinds: a {@link UsageError} is one line on stderr and exit 2; a `LicensingError`
 * (the operation asked for failed) is one line naming the server's code and the LexActivator status, and its
 * exit code from `ExitCodes.ts`; anything else is a bug, reported in one line with exit 1 (with the stack when
 * `LICENSURE_DEBUG` is set).
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type { LicensingError, LicenseView, PromiseLicensing } from "@licensure/core"
import packageJson from "../../package.json" with { type: "json" }
import type { createNodeLicensing as CreateNodeLicensing } from "@licensure/node-runtime"
import { type CliSettings, type Env, resolveConfig } from "./CliConfig.ts"
import { type CommandLine, type CommandName, parseCommandLine } from "./CommandLine.ts"
import { ExitCode, exitCodeOfError, exitCodeOfView } from "./ExitCodes.ts"
import { commandHelpText, helpText } from "./Help.ts"
import { makeProgress, type Progress, type ProgressStream } from "./Progress.ts"
import { renderStatusTable, type StatusContext, statusJson } from "./StatusReport.ts"
import { isUsageError, UsageError } from "./UsageError.ts"

export interface CliIo {
  readonly stdout: { readonly write: (text: string) => unknown }
  readonly stderr: ProgressStream
  readonly env: Env
  readonly cwd: string
  /** Resolves when the user asks the long-running commands (`watch`, `emulator`) to stop. */
  readonly interrupted: () => Promise<void>
}

/**
 * DECISION: the CLI retries a transient failure twice, with waits of at most 250 ms then 500 ms, instead of the
 * library's four retries up to a minute apart. A person (or a CI step) is waiting on a terminal; an unreachable
 * server should be reported in about a second, with its exit code, rather than after a minute of silence. The
 * background client in an application keeps the library's patient policy.
 */
const CliRetry = { retries: 2, base: "250 millis", cap: "1 second" } as const

export const run = async (args: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const line = (text: string) => io.stdout.write(`${text}\n`)
  const complain = (text: string) => io.stderr.write(`licensure: ${text}\n`)
  let commandLine: CommandLine | undefined
  // `licensure emulator` is `licensure-emulator`: one command, one set of flags, one help (the emulator's Serve).
  if (args[0] === "emulator") {
    const { serve } = await import("@licensure/emulator/Serve")
    return serve("licensure emulator", args.slice(1), { ...io, interrupted: io.interrupted() })
  }
  try {
    commandLine = parseCommandLine(args)
    return await dispatch(commandLine, io, line)
  } catch (error) {
    if (isUsageError(error)) {
      complain(`${error.message} (see licensure --help)`)
      return ExitCode.usage
    }
    if (isLicensingError(error)) {
      const code = exitCodeOfError(error)
      complain(describeLicensingError(error, code))
      if (commandLine?.json === true) {
        const { operation, kind, code: serverCode, message, status, state } = error
        line(JSON.stringify({ error: { operation, kind, code: serverCode, message, status, state }, exitCode: code }))
      }
      return code
    }
    complain(`unexpected error: ${error instanceof Error ? error.message : String(error)}`)
    if (io.env.LICENSURE_DEBUG !== undefined && error instanceof Error && error.stack !== undefined) {
      io.stderr.write(`${error.stack}\n`)
    }
    return ExitCode.internal
  }
}

const isLicensingError = (error: unknown): error is LicensingError =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "LicensingError"

const describeLicensingError = (error: LicensingError, exitCode: number): string => {
  const what = error.code ?? error.kind
  const status = `${error.status.name} ${error.status.code}`
  switch (error.kind) {
    case "ServerRefused":
    case "UnknownServerCode":
    case "NotFound":
      return `${error.operation} refused by the server: ${what}: ${error.message} (${status})`
    case "TokenRejected":
      return `${error.operation} failed: the server's answer does not verify against the public key (${what}): ${error.message}`
    case "NotActivated":
    case "AlreadyLicensed":
      return `${error.operation}: ${error.message}`
    default:
      return exitCode === ExitCode.unreachable
        ? `${error.operation} failed: the licence server could not be reached or did not serve the request: ${what}: ${error.message} (${status})`
        : `${error.operation} failed: ${what}: ${error.message} (${status})`
  }
}

const dispatch = async (commandLine: CommandLine, io: CliIo, line: (text: string) => void): Promise<number> => {
  switch (commandLine.command) {
    case "help": {
      const topic = commandLine.positionals[0] as CommandName | undefined
      if (topic === "emulator")
        io.stdout.write((await import("@licensure/emulator/Serve")).serveUsage("licensure emulator"))
      else io.stdout.write(topic === undefined ? helpText() : commandHelpText(topic))
      return ExitCode.licensed
    }
    case "version":
      line(commandLine.json ? JSON.stringify({ version: packageJson.version }) : packageJson.version)
      return ExitCode.licensed
    case "chart":
      return chart(commandLine, io, line)
    case "demo":
      return demo(commandLine, io, line)
    case "inspect":
      return inspectReplay(commandLine, io, line)
    case "doctor":
      return doctor(commandLine, io, line)
    default: {
      const settings = resolveConfig(commandLine.config, io.env, io.cwd)
      const progress = makeProgress(io.stderr)
      // Loaded only once the command line and configuration are known good, so that a mistake is answered at once.
      const { createNodeLicensing } = await import("@licensure/node-runtime/NodeLicensing")
      const { resolveHost } = await import("@licensure/core/LicenseApi")
      // `watch` follows the stored record: a sync or deactivation run in another shell shows up in its lines.
      const licensing = open(createNodeLicensing, settings, commandLine.command === "watch")
      try {
        const context = { releaseVersion: settings.releaseVersion }
        return await licensingCommand(commandLine, resolveHost(settings.host), licensing, progress, io, line, context)
      } finally {
        await licensing.close()
      }
    }
  }
}

const open = (create: typeof CreateNodeLicensing, settings: CliSettings, watchStore = false): PromiseLicensing =>
  create({
    watchStore,
    productId: settings.productId,
    publicKeyPem: settings.publicKeyPem,
    host: settings.host,
    scope: settings.scope,
    directory: settings.directory,
    appVersion: settings.appVersion,
    ...(settings.releaseVersion !== undefined ? { releaseVersion: settings.releaseVersion } : {}),
    retry: CliRetry,
    ...(settings.fingerprintRoot !== undefined || settings.fingerprintUser !== undefined
      ? {
          fingerprint: {
            ...(settings.fingerprintRoot !== undefined ? { root: settings.fingerprintRoot } : {}),
            ...(settings.fingerprintUser !== undefined ? { username: settings.fingerprintUser } : {})
          }
        }
      : {})
  })

const licensingCommand = async (
  commandLine: CommandLine,
  host: string,
  licensing: PromiseLicensing,
  progress: Progress,
  io: CliIo,
  line: (text: string) => void,
  context: StatusContext
): Promise<number> => {
  const report = (view: LicenseView, exitCode = exitCodeOfView(view)) => {
    line(commandLine.json ? JSON.stringify(statusJson(view, exitCode, context)) : renderStatusTable(view, context))
    return exitCode
  }
  switch (commandLine.command) {
    case "activate": {
      // A key pasted with a stray space or newline is the same key.
      const key = commandLine.positionals[0]!.trim()
      return report(await progress.around(`activating with ${host}`, () => licensing.activate(key)))
    }
    case "trial":
      return report(await progress.around(`starting the trial with ${host}`, () => licensing.activateTrial()))
    case "status":
      return report(await licensing.check())
    case "sync":
      return report(await progress.around(`syncing with ${host}`, () => licensing.sync()))
    case "deactivate": {
      // Idempotent, as an uninstaller needs it: with no activation here, there is nothing to release.
      const before = await licensing.check()
      if (before.license === undefined) {
        if (commandLine.json) return report(before, ExitCode.licensed)
        line("deactivated: there was no activation on this machine (nothing to release)")
        return ExitCode.licensed
      }
      const view = await progress.around(`deactivating with ${host}`, () => licensing.deactivate())
      if (commandLine.json) return report(view, ExitCode.licensed)
      line("deactivated: this machine's activation was released")
      return ExitCode.licensed
    }
    case "watch":
      return watch(commandLine, licensing, io, line, context)
    default:
      throw new UsageError({ message: `\`${commandLine.command}\` is not a licensing command` })
  }
}

const watch = async (
  commandLine: CommandLine,
  licensing: PromiseLicensing,
  io: CliIo,
  line: (text: string) => void,
  context: StatusContext
): Promise<number> => {
  // Listen for the interrupt before the first line goes out: a reader that stops us on seeing it must not find the
  // process still without a handler (and so killed by the signal's default action).
  const interrupted = io.interrupted()
  if (commandLine.inspect) {
    const Inspector = await import("../Inspector.ts")
    const { url } = await licensing.use((service) => Inspector.start(service, { port: commandLine.inspectPort }))
    // With --json, stdout carries only the JSON lines (for jq); the URL is a diagnostic.
    if (commandLine.json) io.stderr.write(`inspector: ${url}\n`)
    else line(`inspector: ${url}`)
  }
  let last: string | undefined
  const unsubscribe = licensing.subscribe((view) => {
    // The view also changes when only a timestamp moves; a line is worth printing when the state or status does.
    const shownNow = `${view.state} ${view.status.name}`
    if (shownNow === last) return
    last = shownNow
    line(
      commandLine.json
        ? JSON.stringify({ at: new Date().toISOString(), ...statusJson(view, exitCodeOfView(view), context) })
        : `${new Date().toISOString()} ${shownNow}`
    )
  })
  try {
    await interrupted
  } finally {
    unsubscribe()
  }
  return ExitCode.licensed
}

const chart = async (commandLine: CommandLine, io: CliIo, line: (text: string) => void): Promise<number> => {
  const { toGraph, toMermaid, toScxml } = await import("@licensure/core/Chart")
  const text = await chartText(commandLine.format, { toGraph, toMermaid, toScxml })
  if (commandLine.out === undefined) {
    line(text)
    return ExitCode.licensed
  }
  const path = NodePath.resolve(io.cwd, commandLine.out)
  try {
    NodeFs.writeFileSync(path, `${text}\n`)
  } catch (cause) {
    throw new UsageError({
      message: `--out: cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`
    })
  }
  io.stderr.write(`licensure: wrote the chart to ${path}\n`)
  return ExitCode.licensed
}

const chartText = async (
  format: CommandLine["format"],
  chart: Pick<typeof import("@licensure/core/Chart"), "toGraph" | "toMermaid" | "toScxml">
): Promise<string> => {
  switch (format) {
    case "json":
      return JSON.stringify(chart.toGraph(), null, 2)
    case "scxml":
      return chart.toScxml()
    case "svg": {
      // The inspector's drawing: the same elkjs layout and renderer, the stylesheet inlined.
      const { layout } = await import("../ChartLayout.ts")
      const { toSvgFile } = await import("../ChartSvg.ts")
      return toSvgFile(await layout(chart.toGraph())).trimEnd()
    }
    default:
      return chart.toMermaid()
  }
}

const doctor = async (commandLine: CommandLine, io: CliIo, line: (text: string) => void): Promise<number> => {
  const settings = resolveConfig(commandLine.config, io.env, io.cwd)
  const { runDoctor, renderDoctor, doctorJson } = await import("./Doctor.ts")
  const { resolveHost } = await import("@licensure/core/LicenseApi")
  const report = await runDoctor(settings, resolveHost(settings.host), io.env, makeProgress(io.stderr))
  line(commandLine.json ? JSON.stringify(doctorJson(report)) : renderDoctor(report))
  return report.exitCode
}

const demo = async (commandLine: CommandLine, io: CliIo, line: (text: string) => void): Promise<number> => {
  const { runDemo } = await import("../Demo.ts")
  const record = commandLine.record === undefined ? undefined : NodePath.resolve(io.cwd, commandLine.record)
  // With --json the story a person reads goes to stderr and stdout carries only the summary, one JSON document.
  const write = commandLine.json ? (text: string) => io.stderr.write(`${text}\n`) : line
  // Listening before the year starts: an interrupt during the run ends the wait after it at once.
  const interrupted = commandLine.inspect ? io.interrupted() : undefined
  const summary = await runDemo({
    write,
    ...(commandLine.out !== undefined ? { outDir: NodePath.resolve(io.cwd, commandLine.out) } : {}),
    ...(record !== undefined ? { record } : {}),
    ...(interrupted !== undefined
      ? {
          inspect: {
            port: commandLine.inspectPort,
            // The demo's table is stdout; the page's address is a diagnostic beside it.
            onUrl: (url: string) => io.stderr.write(`inspector: ${url}\n`),
            until: interrupted.then(() => undefined)
          }
        }
      : {})
  })
  if (record !== undefined) io.stderr.write(`licensure: wrote the recording to ${record}\n`)
  if (commandLine.json) line(JSON.stringify(summary))
  return ExitCode.licensed
}

/** `licensure inspect --replay FILE`: the page plays the recording until interrupted. */
const inspectReplay = async (commandLine: CommandLine, io: CliIo, line: (text: string) => void): Promise<number> => {
  const Inspector = await import("../Inspector.ts")
  const InspectionRecord = await import("../InspectionRecord.ts")
  const Effect = await import("effect/Effect")
  const Exit = await import("effect/Exit")
  const Scope = await import("effect/Scope")
  const path = NodePath.resolve(io.cwd, commandLine.replay!)
  const interrupted = io.interrupted()
  const scope = Effect.runSync(Scope.make())
  const started = await Effect.runPromiseExit(
    Effect.flatMap(InspectionRecord.read(path), (events) =>
      Scope.provide(Inspector.replay(events, { port: commandLine.inspectPort }), scope)
    )
  )
  try {
    if (Exit.isFailure(started)) {
      const error = Exit.findErrorOption(started)
      // A recording that cannot be read, or a port that cannot be had: the user's input, said in one line.
      if (error._tag === "Some") throw new UsageError({ message: `--replay: ${error.value.message}` })
      throw new Error(`the inspector did not start: ${String(started.cause)}`)
    }
    line(`inspector: ${started.value.url}`)
    await interrupted
    return ExitCode.licensed
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
