/**
 * The text of `licensure --help`. The exit-code section is rendered from `ExitCodes.ts`, so the help cannot
 * disagree with what the CLI actually returns.
 *
 * @since 0.1.0
 */
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
    "  chart            print the lifecycle: --format mermaid (default) | scxml (W3C) | json; --out <file>",
    "  emulator         run a local Cryptlex emulator (licensure emulator --help: --port, --host, --manual-clock, --seed)",
    "  demo             run the licensing demo (--out <dir> for its output files)",
    "",
    "options for activate, trial, status, sync, deactivate, watch:",
    "  --product-id <id>        the Cryptlex product id                         env LICENSURE_PRODUCT_ID",
    "  --public-key <file>      the product's RSA public key (PEM file)         env LICENSURE_PUBLIC_KEY",
    "  --public-key-pem <pem>   the same key, as text                           env LICENSURE_PUBLIC_KEY_PEM",
    "  --host <host>            default | eu | an on-premise or emulator URL    env LICENSURE_HOST",
    "  --scope <scope>          user (default) | system | memory                env LICENSURE_SCOPE",
    "  --dir <directory>        where the licence file is kept                  env LICENSURE_DIR",
    "  --config <file>          JSON config file (default ./licensure.json)     env LICENSURE_CONFIG",
    "  --app-version <version>  sent with activations                           env LICENSURE_APP_VERSION",
    "  --json                   print JSON on stdout instead of text",
    "",
    "Flags win over environment variables, which win over the config file. The config file holds a JSON object",
    "with any of: productId, publicKeyPath | publicKeyPem, host, scope, dir, appVersion (paths in it are",
    "relative to the file). LICENSURE_FINGERPRINT_ROOT points the machine fingerprint at another root (tests).",
    "",
    "exit codes:",
    ...codes,
    ""
  ].join("\n")
}
