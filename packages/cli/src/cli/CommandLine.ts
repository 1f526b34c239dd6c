/**
 * The `licensure` command line, parsed by hand: a command, its positional arguments and its flags. Flags may come
 * before or after the command, as `--flag value` or `--flag=value`; `--` ends the flags. Each command accepts only
 * the flags that mean something to it, so a typo or a misplaced flag is one clear {@link UsageError} instead of
 * being silently ignored.
 *
 * Only the syntax is checked here. The values that can also come from the environment or the config file (scope,
 * host, public key) are checked once, in `CliConfig.ts`, whatever their source.
 *
 * DECISION: the parser stays hand-written rather than on Effect's own CLI module (`effect/cli`: `Command`, `Flag`),
 * which issue 13 asked for "unless a measured reason says otherwise". Measured (`bench/src/cliparser.bench.ts`,
 * fresh processes, compile cache on as in the bin, medians of 21 alternating rounds, this 2-core machine, Node 24):
 *
 * | fresh process                                   | over `node -e 0` | maxRSS    |
 * |-------------------------------------------------|------------------|-----------|
 * | this parser + Help + CliConfig, parse `status --json` | +10 ms     | 50 MiB    |
 * | `effect/cli` root + `status` command, `runWith` | +180 ms          | 102 MiB   |
 * | `@licensure/node-runtime/NodeLicensing` alone   | +161 ms          | 99 MiB    |
 * | the same + this parser                          | +162 ms          | 99 MiB    |
 * | the same + `effect/cli`                         | +228 ms          | 114 MiB   |
 *
 * Issue 8's target for an offline `licensure status` is <= 150 ms over bare node and <= 80 MiB (bench `bundle`),
 * and the CLI is already at about 153 ms and 100 MiB from loading the runtime alone; `effect/cli` would add about
 * 66-70 ms and 14 MiB to every command, and 170 ms to `--help` and to every usage error, which this parser answers
 * before loading anything. The goals the module would have brought are met here instead: per-command help with
 * examples (`Help.ts`), suggestions for typos ({@link suggestion}), one emulator command (`Cli.run` hands
 * `licensure emulator` to the emulator's own `Serve`), and flag → environment → file precedence (`CliConfig.ts`).
 *
 * @since 0.1.0
 */
import { shown, UsageError } from "./UsageError.ts"

export const Commands = [
  "activate",
  "trial",
  "status",
  "sync",
  "deactivate",
  "watch",
  "doctor",
  "chart",
  "emulator",
  "demo",
  "inspect"
] as const
export type CommandName = (typeof Commands)[number]

/** The commands that talk to the licence of a product, and so need its configuration. */
export const LicensingCommands: ReadonlyArray<CommandName> = [
  "activate",
  "trial",
  "status",
  "sync",
  "deactivate",
  "watch",
  "doctor"
]

/** Configuration flags, by the field they set. */
export interface ConfigFlags {
  readonly productId?: string
  readonly publicKeyPath?: string
  readonly publicKeyPem?: string
  readonly host?: string
  readonly scope?: string
  readonly dir?: string
  readonly config?: string
  readonly appVersion?: string
  readonly releaseVersion?: string
}

export interface CommandLine {
  /** `emulator` never: its flags are the emulator's own (`@licensure/emulator/Serve`), and `Cli.run` hands it over. */
  readonly command: Exclude<CommandName, "emulator"> | "help" | "version"
  readonly positionals: ReadonlyArray<string>
  readonly config: ConfigFlags
  readonly json: boolean
  readonly out: string | undefined
  /** `chart --format`: mermaid (default), scxml, json or svg (the inspector's elkjs layout, styles inlined). */
  readonly format: ChartFormat
  /** `watch --inspect`: also serve the state-chart inspector page on loopback. */
  readonly inspect: boolean
  /** `watch --inspect-port N`: the inspector's fixed port (0, the default, lets the system choose). */
  readonly inspectPort: number
  /** `demo --record FILE`: where the run is written as JSON lines of inspection events. */
  readonly record: string | undefined
  /** `inspect --replay FILE`: the recording the inspector page plays. */
  readonly replay: string | undefined
}

export const ChartFormats = ["mermaid", "scxml", "json", "svg"] as const
export type ChartFormat = (typeof ChartFormats)[number]

interface FlagSpec {
  readonly takesValue: boolean
  readonly commands: ReadonlyArray<CommandName>
  readonly configField?: keyof ConfigFlags
}

const flags: Readonly<Record<string, FlagSpec>> = {
  "--product-id": { takesValue: true, commands: LicensingCommands, configField: "productId" },
  "--public-key": { takesValue: true, commands: LicensingCommands, configField: "publicKeyPath" },
  "--public-key-pem": { takesValue: true, commands: LicensingCommands, configField: "publicKeyPem" },
  "--host": { takesValue: true, commands: LicensingCommands, configField: "host" },
  "--scope": { takesValue: true, commands: LicensingCommands, configField: "scope" },
  "--dir": { takesValue: true, commands: LicensingCommands, configField: "dir" },
  "--config": { takesValue: true, commands: LicensingCommands, configField: "config" },
  "--app-version": { takesValue: true, commands: LicensingCommands, configField: "appVersion" },
  "--release-version": { takesValue: true, commands: LicensingCommands, configField: "releaseVersion" },
  "--json": { takesValue: false, commands: [...LicensingCommands, "chart", "demo"] },
  "--out": { takesValue: true, commands: ["chart", "demo"] },
  "--format": { takesValue: true, commands: ["chart"] },
  "--inspect": { takesValue: false, commands: ["watch", "demo"] },
  "--inspect-port": { takesValue: true, commands: ["watch", "demo", "inspect"] },
  "--record": { takesValue: true, commands: ["demo"] },
  "--replay": { takesValue: true, commands: ["inspect"] }
}

const isCommand = (word: string): word is CommandName => (Commands as ReadonlyArray<string>).includes(word)

/** A command line that is only its command (`--help`, `--version`), every option at its default. */
const bare = (command: "help" | "version"): CommandLine => ({
  command,
  positionals: [],
  config: {},
  json: false,
  out: undefined,
  format: "mermaid",
  inspect: false,
  inspectPort: 0,
  record: undefined,
  replay: undefined
})

/** The edit distance of two short words (insertions, deletions, substitutions, adjacent swaps). */
const distance = (a: string, b: string): number => {
  const d: Array<Array<number>> = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/**
 * `" (did you mean X?)"` for the closest known word, or "" when nothing is close.
 *
 * DECISION: close means an edit distance of at most 2, or a third of the word's length for longer words (git's
 * and npm's suggestions behave alike); a unique prefix of three letters or more also counts (`deact`).
 */
export const suggestion = (word: string, known: ReadonlyArray<string>): string => {
  const limit = Math.max(2, Math.floor(word.length / 3))
  const ranked = known
    .map((candidate) => ({ candidate, d: distance(word.toLowerCase(), candidate) }))
    .sort((x, y) => x.d - y.d)
  const best = ranked[0]
  if (best !== undefined && best.d <= limit) return ` (did you mean ${best.candidate}?)`
  const prefixed = known.filter((candidate) => word.length >= 3 && candidate.startsWith(word.toLowerCase()))
  return prefixed.length === 1 ? ` (did you mean ${prefixed[0]}?)` : ""
}

/** Every flag the CLI knows, for suggestions. */
export const KnownFlags: ReadonlyArray<string> = [...Object.keys(flags), "--help", "--version"]

/** The flags a command accepts (for its help). */
export const flagsOf = (command: CommandName): ReadonlyArray<string> =>
  Object.entries(flags)
    .filter(([, spec]) => spec.commands.includes(command))
    .map(([flag]) => flag)

const unknownCommand = (word: string) =>
  new UsageError({
    message: `unknown command ${shown(word)}${suggestion(word, Commands)} (expected one of ${Commands.join(", ")})`
  })

/** Parses `process.argv.slice(2)`; fails with a {@link UsageError} naming the first thing wrong. */
export const parseCommandLine = (args: ReadonlyArray<string>): CommandLine => {
  const wantsHelp = args.some((arg) => arg === "--help" || arg === "-h")
  if (wantsHelp || args[0] === "help") {
    // `licensure help <command>`, `licensure <command> --help`: that command's help; otherwise the overview.
    const words = args.filter((arg) => !arg.startsWith("-") && arg !== "help")
    const topic = args[0] === "help" ? words[0] : words.find(isCommand)
    if (topic !== undefined && !isCommand(topic)) throw unknownCommand(topic)
    return { ...bare("help"), positionals: topic === undefined ? [] : [topic] }
  }
  if (args.some((arg) => arg === "--version" || arg === "-V")) {
    return { ...bare("version"), json: args.includes("--json") }
  }
  let command: CommandName | undefined
  const positionals: Array<string> = []
  const given: Array<{ readonly flag: string; readonly value: string | undefined }> = []
  let onlyPositionals = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (onlyPositionals || !arg.startsWith("-") || arg === "-") {
      if (command === undefined) {
        if (!isCommand(arg)) throw unknownCommand(arg)
        command = arg
      } else {
        positionals.push(arg)
      }
      continue
    }
    if (arg === "--") {
      onlyPositionals = true
      continue
    }
    const eq = arg.indexOf("=")
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const spec = flags[flag]
    if (spec === undefined)
      throw new UsageError({ message: `unknown flag ${shown(flag)}${suggestion(flag, KnownFlags)}` })
    let value: string | undefined
    if (spec.takesValue) {
      value = eq > 0 ? arg.slice(eq + 1) : args[++i]
      if (value === undefined || value === "") throw new UsageError({ message: `${flag} expects a value, got nothing` })
    } else if (eq > 0) {
      throw new UsageError({ message: `${flag} takes no value, got ${shown(arg.slice(eq + 1))}` })
    }
    given.push({ flag, value })
  }
  if (command === undefined) {
    throw new UsageError({ message: `missing command (expected one of ${Commands.join(", ")})` })
  }
  if (command === "emulator") {
    throw new UsageError({
      message: "the emulator's flags come after it: licensure emulator [flags] (licensure emulator --help)"
    })
  }

  const config: Record<string, string> = {}
  let json = false
  let out: string | undefined
  let format: ChartFormat | undefined
  let inspect = false
  let inspectPort = 0
  let record: string | undefined
  let replay: string | undefined
  const seen = new Set<string>()
  for (const { flag, value } of given) {
    const spec = flags[flag]!
    if (!spec.commands.includes(command)) {
      throw new UsageError({
        message: `${flag} is not an option of \`${command}\` (it belongs to ${spec.commands.join(", ")})`
      })
    }
    if (seen.has(flag)) throw new UsageError({ message: `${flag} given twice` })
    seen.add(flag)
    if (spec.configField !== undefined) config[spec.configField] = value!
    else if (flag === "--json") json = true
    else if (flag === "--inspect") inspect = true
    else if (flag === "--out") out = value
    else if (flag === "--record") record = value
    else if (flag === "--replay") replay = value
    else if (flag === "--format") {
      if (!(ChartFormats as ReadonlyArray<string>).includes(value!)) {
        throw new UsageError({ message: `--format expects one of ${ChartFormats.join(", ")}, got ${shown(value!)}` })
      }
      format = value as ChartFormat
    }
    // DECISION: a fixed inspector port implies --inspect (asking for the page's port is asking for the page), so a
    // bookmarked tab reconnects to a restarted watcher at the same address.
    else if (flag === "--inspect-port") {
      inspectPort = parsePort(flag, value!)
      inspect = true
    }
  }

  if (command === "inspect" && replay === undefined) {
    throw new UsageError({
      message: "inspect expects --replay <file> (a recording: licensure demo --record <file>), got nothing"
    })
  }
  const arity = command === "activate" ? 1 : 0
  if (positionals.length < arity) {
    throw new UsageError({ message: "activate expects a licence key (licensure activate <key>), got nothing" })
  }
  if (positionals.length > arity) {
    const extra = positionals.slice(arity)
    throw new UsageError({
      message: `\`${command}\` takes ${arity === 0 ? "no arguments" : "one argument"}, got also ${extra.map(shown).join(" ")}`
    })
  }
  // `chart --json` is the older spelling of `--format json`.
  return {
    command,
    positionals,
    config,
    json,
    out,
    format: format ?? (json ? "json" : "mermaid"),
    inspect,
    inspectPort,
    record,
    replay
  }
}

const parsePort = (flag: string, raw: string): number => {
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65_535) {
    throw new UsageError({ message: `${flag} expects an integer from 0 to 65535, got ${shown(raw)}` })
  }
  return port
}
