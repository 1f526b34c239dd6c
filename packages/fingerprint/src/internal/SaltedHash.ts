/**
 * HMAC-SHA-256 (RFC 2104) keyed by the product id, built on the one-shot `crypto.hash`. The result is the same as
 * `createHmac("sha256", key)` (a test checks both on random input); the reason for the detour is start-up cost. The
 * fingerprint is computed once per process start, so the first call is the one that counts, and in a fresh process
 * the first `createHmac` measured about 0.65 ms here against 0.43 ms for the first `crypto.hash`.
 * Labelled messages (`label NUL value`) keep the fingerprint and each component hash apart even when two raw
 * values are equal.
 *
 * @internal
 */
import { hash } from "node:crypto"

const blockSize = 64

/** Hex HMAC-SHA-256(productId, label ‖ 0x00 ‖ value). One function on purpose: see `readLinuxPrimary`. */
export const saltedHash = (productId: string, label: string, value: string): string => {
  let key = Buffer.from(productId, "utf8")
  if (key.length > blockSize) key = hash("sha256", key, "buffer")
  const message = Buffer.from(`${label}\0${value}`, "utf8")
  const inner = Buffer.alloc(blockSize + message.length, 0x36)
  const outer = Buffer.alloc(blockSize + 32, 0x5c)
  for (let i = 0; i < key.length; i++) {
    inner[i] ^= key[i]
    outer[i] ^= key[i]
  }
  message.copy(inner, blockSize)
  hash("sha256", inner, "buffer").copy(outer, blockSize)
  return hash("sha256", outer, "hex")
}
