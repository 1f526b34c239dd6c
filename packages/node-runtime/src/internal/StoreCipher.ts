/**
 * The at-rest format of a store file: a small authenticated header followed by the AES-256-GCM ciphertext of the
 * record and its tag. The key comes from HKDF-SHA-256 over the machine fingerprint, salted with the product id, so a
 * file only opens on the machine and for the product that wrote it.
 *
 * Layout (all of the header is additional authenticated data, so no header byte can be changed unnoticed):
 *
 * | bytes | field |
 * |---|---|
 * | 0–3 | magic `LCNS` |
 * | 4 | format version (1) |
 * | 5–12 | key id: 8 bytes derived from the same inputs as the key, under another HKDF label |
 * | 13–24 | IV, fresh for every write |
 * | 25–28 | ciphertext length, unsigned big-endian |
 * | … | ciphertext, then the 16-byte GCM tag |
 *
 * DECISION: the brief fixes the header as magic + version; the key id and the ciphertext length are additions.
 * The key id exists so that "this file was written with another key" (a copied file: `foreign`) can be told from
 * "this file was damaged" (`corrupt`); GCM alone fails the same way for both. It is a one-way derivation and says
 * nothing about the key itself.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "node:crypto"

export const magic = Buffer.from("LCNS", "ascii")
export const formatVersion = 1

const keyIdLength = 8
const ivLength = 12
const tagLength = 16
const headerLength = magic.length + 1 + keyIdLength + ivLength + 4
const keyLabel = "licensure/store/v1"
const keyIdLabel = "licensure/store/v1/key-id"

/** What opening a file's bytes found: the plaintext, or why there is none. */
export type Opened =
  | { readonly _tag: "Plaintext"; readonly plaintext: Buffer }
  | { readonly _tag: "Rejected"; readonly reason: "corrupt" | "foreign" | "wrongVersion"; readonly message: string }

export interface StoreCipher {
  readonly seal: (plaintext: Uint8Array) => Buffer
  readonly open: (file: Uint8Array) => Opened
}

/**
 * The derived key and key id for the last few (fingerprint, product) pairs: a store is made on every start of a
 * client layer, with two files (the record and its mark) each deriving both, and the answer never changes. The key
 * is kept as a `KeyObject`: a raw `Buffer` key is checked and converted again by every `createDecipheriv`, which
 * cost a load more than the decryption itself (about 14 µs against 3 µs per open in a loop; more on a cold start).
 */
const derived = new Map<string, { readonly key: NodeCrypto.KeyObject; readonly keyId: Buffer }>()
const derive = (fingerprint: string, productId: string) => {
  const id = `${fingerprint}\u0000${productId}`
  const known = derived.get(id)
  if (known !== undefined) return known
  const made = {
    key: NodeCrypto.createSecretKey(Buffer.from(NodeCrypto.hkdfSync("sha256", fingerprint, productId, keyLabel, 32))),
    keyId: Buffer.from(NodeCrypto.hkdfSync("sha256", fingerprint, productId, keyIdLabel, keyIdLength))
  }
  if (derived.size >= 8) derived.clear()
  derived.set(id, made)
  return made
}

export const makeStoreCipher = (fingerprint: string, productId: string): StoreCipher => {
  const { key, keyId } = derive(fingerprint, productId)

  const seal = (plaintext: Uint8Array): Buffer => {
    const iv = NodeCrypto.randomBytes(ivLength)
    const header = Buffer.alloc(headerLength)
    magic.copy(header, 0)
    header.writeUInt8(formatVersion, 4)
    keyId.copy(header, 5)
    iv.copy(header, 5 + keyIdLength)
    header.writeUInt32BE(plaintext.length, headerLength - 4)
    const cipher = NodeCrypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength })
    cipher.setAAD(header)
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return Buffer.concat([header, body, cipher.getAuthTag()])
  }

  const open = (input: Uint8Array): Opened => {
    const file = Buffer.from(input.buffer, input.byteOffset, input.length)
    const minimum = headerLength + tagLength
    if (file.length === 0) return corrupt(`the file is empty; expected at least ${minimum} bytes`)
    const head = file.subarray(0, Math.min(magic.length, file.length))
    if (!head.equals(magic.subarray(0, head.length))) {
      return corrupt(`not a licensure store file: expected the magic bytes "LCNS", found ${describeBytes(head)}`)
    }
    if (file.length <= magic.length) {
      return corrupt(`the file is truncated: ${file.length} bytes, expected at least ${minimum}`)
    }
    const version = file.readUInt8(4)
    if (version !== formatVersion) {
      return {
        _tag: "Rejected",
        reason: "wrongVersion",
        message: `store format version ${version}; this build reads version ${formatVersion}`
      }
    }
    if (file.length < minimum) {
      return corrupt(`the file is truncated: ${file.length} bytes, expected at least ${minimum}`)
    }
    if (!NodeCrypto.timingSafeEqual(file.subarray(5, 5 + keyIdLength), keyId)) {
      return {
        _tag: "Rejected",
        reason: "foreign",
        message:
          "the file was written on another machine or for another product: its key id does not match the key " +
          "derived from this machine's fingerprint and this product id"
      }
    }
    const declared = file.readUInt32BE(headerLength - 4)
    const present = file.length - headerLength - tagLength
    if (declared !== present) {
      return corrupt(
        present < declared
          ? `the file is truncated: the header declares ${declared} bytes of ciphertext, ${present} are present`
          : `the file has ${present - declared} unexpected bytes after the declared ${declared} bytes of ciphertext`
      )
    }
    const iv = file.subarray(5 + keyIdLength, 5 + keyIdLength + ivLength)
    try {
      const decipher = NodeCrypto.createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength })
      decipher.setAAD(file.subarray(0, headerLength))
      decipher.setAuthTag(file.subarray(file.length - tagLength))
      const plaintext = Buffer.concat([
        decipher.update(file.subarray(headerLength, file.length - tagLength)),
        decipher.final()
      ])
      return { _tag: "Plaintext", plaintext }
    } catch {
      return corrupt("the contents were altered: the header matches this machine's key but authentication failed")
    }
  }

  return { seal, open }
}

const corrupt = (message: string): Opened => ({ _tag: "Rejected", reason: "corrupt", message })

const describeBytes = (bytes: Buffer): string => {
  const printable = /^[\x20-\x7e]*$/.test(bytes.toString("latin1"))
  return printable ? `"${bytes.toString("latin1")}"` : `bytes 0x${bytes.toString("hex")}`
}
