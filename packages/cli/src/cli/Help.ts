/**
 * The text of `licensure --help`. The exit-code section is rendered from `ExitCodes.ts`, so the help cannot
 * disagree with what the CLI actually returns.
 *
 * @since 0.1.0
 */
import { type CommandName, flagsOf } from "./CommandLine.ts"
import { ExitCodeTable } from "./ExitCodes.ts"

export const helpText = (): string => {
  const codes = ExitCodeTable.map(
    (row) =>
      `  ${String(row.code).padStart(2)}  ${row.meaning}${row.statuses.length > 0 ? ` [${row.statuses.join(", ")}]` : ""}`
  )
  return [
    "licensure: activate and check Cryptlex licences from the command line",
    "",
    "usage: licensure <command> [options]",
    "",
    "commands:",
    "  activate <key>   activate this machine with a licence key",
    "  trial            start (or resume) this machine's trial",
    "  status           show the licence (a table; --json for one JSON object); exits with its code below",
    "  sync             check the licence with the server now",
    "  deactivate       release this machine's activation (frees the seat)",
    "  watch            print one line per licence change until interrupted (Ctrl-C exits 0);",
    "                   --inspect also serves the live state-chart page on 127.0.0.1 and prints its URL",
    "  doctor           check the network route, server clock, TLS, fingerprint and licence file; advice",
    "                   for each problem (--json for one JSON document); exits 40 when a check failed",
    "  chart            print the lifecycle: --format mermaid (default) | scxml (W3C) | json | svg; --out <file>",
    "  emulator         run a local Cryptlex emulator (licensure emulator --help: --port, --host, --manual-clock, --seed)",
    "  demo             run the licensing demo (--out <dir> for its output files; --json for its summary;",
    "                   --record <file> writes the run for replay; --inspect serves the state-chart page",
    "                   while the year runs)",
    "  inspect          serve the state-chart page playing a recording: --replay <file> [--inspect-port <n>]",
    "",
    "options for activate, trial, status, sync, deactivate, watch, doctor:",
    "  --product-id <id>        the Cryptlex product id                         env LICENSURE_PRODUCT_ID",
    "  --public-key <file>      the product's RSA public key (PEM file)         env LICENSURE_PUBLIC_KEY",
    "  --public-key-pem <pem>   the same key, as text                           env LICENSURE_PUBLIC_KEY_PEM",
    "  --host <host>            default | eu | an on-premise or emulator URL    env LICENSURE_HOST",
    "  --scope <scope>          user (default) | system | memory                env LICENSURE_SCOPE",
    "  --dir <directory>        where the licence file is kept                  env LICENSURE_DIR",
    "  --config <file>          JSON config file (default ./licensure.json)     env LICENSURE_CONFIG",
    "  --app-version <version>  sent with activations                           env LICENSURE_APP_VERSION",
    "  --release-version <v>    the app's release, x.x to x.x.x.x: sent, and checked against the licence",
    "                                                                           env LICENSURE_RELEASE_VERSION",
    "  --json                   print JSON on stdout instead of text (also for chart, demo, emulator, --version)",
    "",
    "Flags win over environment variables, which win over the config file. The config file holds a JSON object",
    "with any of: productId, publicKeyPath | publicKeyPem, host, scope, dir, appVersion, releaseVersion (paths in",
    "it are relative to the file). LICENSURE_FINGERPRINT_ROOT points the machine fingerprint at another root,",
    "LICENSURE_FINGERPRINT_USER at another OS user (tests).",
    "",
    "exit codes:",
    ...codes,
    ""
  ].join("\n")
}

interface CommandDoc {
  readonly usage: string
  readonly summary: ReadonlyArray<string>
  readonly examples: ReadonlyArray<string>
}

/** What each command does, in the words of `licensure <command> --help`. */
const commandDocs: Readonly<Record<Exclude<CommandName, "emulator">, CommandDoc>> = {
  activate: {
    usage: "licensure activate <key> [options]",
    summary: [
      "Activates this machine with a licence key (surrounding spaces are ignored) and stores the activation,",
      "encrypted, in the licence file. Prints the licence; exits with the code of its status."
    ],
    examples: ["licensure activate XXXXXX-XXXXXX-XXXXXX-XXXXXX --product-id <id> --public-key product.pem"]
  },
  trial: {
    usage: "licensure trial [options]",
    summary: ["Starts this machine's trial, or resumes the one it has. Prints the trial and its expiry."],
    examples: ["licensure trial --json"]
  },
  status: {
    usage: "licensure status [options]",
    summary: [
      "Shows the licence as stored, checked offline (no network): state, LexActivator status, expiry, grace,",
      "next sync, last error. Exits with the code of the status, so a script can test it."
    ],
    examples: ["licensure status", "licensure status --json | jq .status.name"]
  },
  sync: {
    usage: "licensure sync [options]",
    summary: ["Checks the licence with the server now, and stores what it says. A failure stays in `status`."],
    examples: ["licensure sync"]
  },
  deactivate: {
    usage: "licensure deactivate [options]",
    summary: [
      "Releases this machine's activation, freeing the seat, and removes the stored licence. With no",
      "activation on this machine it succeeds too (exit 0), so an uninstaller can run it unconditionally."
    ],
    examples: ["licensure deactivate --json"]
  },
  watch: {
    usage: "licensure watch [--inspect] [options]",
    summary: [
      "Prints one line per licence change (one JSON object per line with --json) until Ctrl-C (exit 0).",
      "--inspect also serves the live state-chart page on 127.0.0.1 and prints its URL on stderr."
    ],
    examples: ["licensure watch --json --inspect"]
  },
  doctor: {
    usage: "licensure doctor [--json] [options]",
    summary: [
      "Diagnoses why activation or sync fails here, changing nothing: one request to the server (its status,",
      "its Date against this machine's clock, rate-limit headers), the proxy variables and the route they give,",
      "the server's TLS certificate chain, this machine's fingerprint against the stored activation's, and the",
      "licence file (path, permissions, lock, whether it decrypts and its token verifies). One line per check",
      "(ok, WARN, FAIL, skip) with advice; --json prints one JSON document. Exits 0 unless a check failed (40)."
    ],
    examples: ["licensure doctor", "licensure doctor --json | jq '.checks[] | select(.verdict != \"ok\")'"]
  },
  chart: {
    usage: "licensure chart [--format mermaid|scxml|json|svg] [--out <file>]",
    summary: ["Prints the licence lifecycle's state chart, drawn from the machine definition itself."],
    examples: ["licensure chart --format scxml --out lifecycle.scxml"]
  },
  demo: {
    usage: "licensure demo [--out <dir>] [--json] [--record <file>] [--inspect] [--inspect-port <n>]",
    summary: [
      "Runs a licence through a year of virtual time against an embedded emulator, in seconds: outages, grace,",
      "a suspension, an expiry and renewals, a revocation, then a trial that runs out. With --json the timeline",
      "goes to stderr and stdout carries one JSON summary (syncs, hours in each state, statuses seen). --record",
      "writes the run as JSON lines of inspection events (licensure inspect --replay plays them). --inspect serves",
      "the state-chart page for the demo's client while the year runs (its URL on stderr) and keeps it up until",
      "Ctrl-C."
    ],
    examples: [
      "licensure demo --out ./demo-output",
      "licensure demo --json | jq .hoursInState",
      "licensure demo --record year.jsonl"
    ]
  },
  inspect: {
    usage: "licensure inspect --replay <file> [--inspect-port <n>]",
    summary: [
      "Serves the state-chart page on 127.0.0.1 with a recording loaded (licensure demo --record), and plays",
      "it: the scrubber steps through the moments, the highlight and the timeline follow. Prints the URL;",
      "runs until Ctrl-C (exit 0)."
    ],
    examples: [
      "licensure inspect --replay year.jsonl --inspect-port 7777",
      "licensure demo --record year.jsonl && licensure inspect --replay year.jsonl"
    ]
  }
}

const flagDocs: Readonly<Record<string, string>> = {
  "--product-id": "<id>  the Cryptlex product id (env LICENSURE_PRODUCT_ID)",
  "--public-key": "<file>  the product's RSA public key, PEM (env LICENSURE_PUBLIC_KEY)",
  "--public-key-pem": "<pem>  the same key, as text (env LICENSURE_PUBLIC_KEY_PEM)",
  "--host": "<host>  default | eu | an on-premise or emulator URL (env LICENSURE_HOST)",
  "--scope": "<scope>  user (default) | system | memory (env LICENSURE_SCOPE)",
  "--dir": "<directory>  where the licence file is kept (env LICENSURE_DIR)",
  "--config": "<file>  JSON config file, default ./licensure.json (env LICENSURE_CONFIG)",
  "--app-version": "<version>  sent with activations (env LICENSURE_APP_VERSION)",
  "--release-version":
    "<x.x[.x[.x]]>  the app's release: sent, and checked against the licence (env LICENSURE_RELEASE_VERSION)",
  "--json": "print JSON on stdout (diagnostics stay on stderr)",
  "--out": "<path>  write the output there instead of stdout",
  "--format": "<format>  mermaid (default) | scxml | json",
  "--inspect": "serve the live state-chart page on 127.0.0.1",
  "--inspect-port": "<n>  the page's fixed port (implies --inspect; default: a free one)",
  "--record": "<file>  write the run as JSON lines of inspection events, for licensure inspect --replay",
  "--replay": "<file>  the recording to play (licensure demo --record)"
}

/** The text of `licensure <command> --help` and `licensure help <command>`. */
export const commandHelpText = (command: Exclude<CommandName, "emulator">): string => {
  const doc = commandDocs[command]
  const options = flagsOf(command).map((flag) => `  ${flag} ${flagDocs[flag] ?? ""}`.trimEnd())
  return [
    `usage: ${doc.usage}`,
    "",
    ...doc.summary,
    "",
    ...(options.length > 0 ? ["options:", ...options, ""] : []),
    "examples:",
    ...doc.examples.map((example) => `  ${example}`),
    "",
    "licensure --help lists every command and the exit codes.",
    ""
  ].join("\n")
}
