import { assert, describe, it } from "@effect/vitest"
import { defaultDirectory, storeFileName, storeFilePath } from "../src/Paths.ts"

describe("store paths", () => {
  describe("on Linux", () => {
    const linux = { platform: "linux", homedir: "/home/ada" } as const

    it("keep a user's licences under XDG_DATA_HOME", () => {
      assert.strictEqual(
        defaultDirectory("user", { ...linux, env: { XDG_DATA_HOME: "/data/ada" } }),
        "/data/ada/licensure"
      )
    })

    it("fall back to ~/.local/share when XDG_DATA_HOME is unset, empty or relative", () => {
      for (const env of [{}, { XDG_DATA_HOME: "" }, { XDG_DATA_HOME: "relative/dir" }]) {
        assert.strictEqual(defaultDirectory("user", { ...linux, env }), "/home/ada/.local/share/licensure")
      }
    })

    it("keep machine-wide licences in /var/lib/licensure", () => {
      assert.strictEqual(defaultDirectory("system", { ...linux, env: { XDG_DATA_HOME: "/x" } }), "/var/lib/licensure")
    })
  })

  describe("on macOS", () => {
    const mac = { platform: "darwin", homedir: "/Users/ada", env: {} } as const

    it("use Application Support, the user's or the machine's", () => {
      assert.strictEqual(defaultDirectory("user", mac), "/Users/ada/Library/Application Support/licensure")
      assert.strictEqual(defaultDirectory("system", mac), "/Library/Application Support/licensure")
    })
  })

  describe("on Windows", () => {
    const windows = { platform: "win32", homedir: "C:\\Users\\ada" } as const

    it("use %APPDATA% for the user and %PROGRAMDATA% for the machine", () => {
      const env = { APPDATA: "C:\\Users\\ada\\AppData\\Roaming", PROGRAMDATA: "D:\\ProgramData" }
      assert.strictEqual(defaultDirectory("user", { ...windows, env }), "C:\\Users\\ada\\AppData\\Roaming\\licensure")
      assert.strictEqual(defaultDirectory("system", { ...windows, env }), "D:\\ProgramData\\licensure")
    })

    it("fall back to the usual places when the variables are missing", () => {
      assert.strictEqual(
        defaultDirectory("user", { ...windows, env: {} }),
        "C:\\Users\\ada\\AppData\\Roaming\\licensure"
      )
      assert.strictEqual(defaultDirectory("system", { ...windows, env: {} }), "C:\\ProgramData\\licensure")
    })
  })

  it("name the file <productId>.<scope>.lic, keeping a UUID product id as it is", () => {
    assert.strictEqual(
      storeFileName("3f6c2a0e-9b7d-4c1e-8f2a-5d6b7c8e9f01", "user"),
      "3f6c2a0e-9b7d-4c1e-8f2a-5d6b7c8e9f01.user.lic"
    )
    assert.strictEqual(storeFilePath("/srv/lic", "P1", "system"), "/srv/lic/P1.system.lic")
  })

  it("escape a product id that could leave the directory or collide with the suffixes", () => {
    assert.strictEqual(storeFileName("../../etc/passwd", "user"), "_2e_2e_2f_2e_2e_2fetc_2fpasswd.user.lic")
    assert.strictEqual(storeFileName("a.user", "system"), "a_2euser.system.lic")
    assert.strictEqual(storeFileName("é", "user"), "_c3_a9.user.lic")
  })
})
