/**
 * The last-resort primary id: random, generated once and persisted, for machines that have no id of their own (a
 * container built `FROM scratch`, an image whose `/etc/machine-id` was emptied for cloning). Creation must give
 * every process the same answer, even two starting at the same moment, so the id is written to a temporary file,
 * flushed, and then hard-linked into place: `link` fails when the name exists, and the loser reads the winner's
 * id. A file that an administrator writes by hand is taken as it is, which lets a fleet pin its ids.
 *
 * @internal
 */
import { randomBytes } from "node:crypto"
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync
} from "node:fs"
import { join } from "node:path"
import * as Result from "effect/Result"

export const generatedIdFile = "machine-id"

export interface GeneratedId {
  readonly id: string
  readonly path: string
  /** True when this call created the file. */
  readonly created: boolean
}

const codeOf = (error: unknown): string =>
  String((error as { code?: unknown } | null)?.code ?? (error instanceof Error ? error.message : error))

type Existing = { readonly _tag: "missing" | "empty" } | { readonly _tag: "value"; readonly id: string }

const readExisting = (path: string): Existing => {
  try {
    const id = readFileSync(path, "utf8").trim()
    return id === "" ? { _tag: "empty" } : { _tag: "value", id }
  } catch (error) {
    if (codeOf(error) === "ENOENT") return { _tag: "missing" }
    throw error
  }
}

const quietly = (f: () => void): void => {
  try {
    f()
  } catch {
    // Cleanup and the directory flush are best effort: the id itself is already in place or already failed.
  }
}

const writeFlushed = (path: string, text: string): void => {
  const fd = openSync(path, "wx", 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Reads the persisted id in `dir`, creating it when absent or empty. Fails with a readable message, never throws. */
export const loadOrCreateGeneratedId = (dir: string): Result.Result<GeneratedId, string> => {
  const path = join(dir, generatedIdFile)
  try {
    const existing = readExisting(path)
    if (existing._tag === "value") return Result.succeed({ id: existing.id, path, created: false })
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const id = randomBytes(16).toString("hex")
    const temporary = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`
    writeFlushed(temporary, `${id}\n`)
    let winner = id
    try {
      if (existing._tag === "empty") {
        renameSync(temporary, path)
      } else {
        try {
          linkSync(temporary, path)
        } catch (error) {
          const code = codeOf(error)
          if (code === "EEXIST") {
            const raced = readExisting(path)
            if (raced._tag !== "value") throw error
            winner = raced.id
          } else if (["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(code) && !existsSync(path)) {
            // Filesystems without hard links (FAT, some network mounts): rename still publishes a whole file.
            renameSync(temporary, path)
          } else {
            throw error
          }
        }
      }
    } finally {
      quietly(() => unlinkSync(temporary))
    }
    if (winner === id) {
      quietly(() => {
        const fd = openSync(dir, "r")
        try {
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      })
    }
    return Result.succeed({ id: winner, path, created: winner === id })
  } catch (error) {
    return Result.fail(`could not read or create the generated machine id at "${path}" (${codeOf(error)})`)
  }
}
