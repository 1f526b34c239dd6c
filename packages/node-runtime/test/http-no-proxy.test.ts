import { assert, describe, it } from "@effect/vitest"
import { bypassesProxy, parseNoProxy } from "../src/internal/NoProxy.ts"
import { resolveProxyPlan } from "../src/NodeHttp.ts"

const bypasses = (noProxy: string | ReadonlyArray<string>, url: string) =>
  bypassesProxy(parseNoProxy(noProxy), new URL(url))

describe("NO_PROXY rules", () => {
  it("match a host exactly and every subdomain of it, with or without a leading dot", () => {
    for (const entry of ["example.com", ".example.com"]) {
      assert.isTrue(bypasses(entry, "https://example.com/"), entry)
      assert.isTrue(bypasses(entry, "https://api.example.com/"), entry)
      assert.isTrue(bypasses(entry, "https://a.b.example.com/"), entry)
      assert.isFalse(bypasses(entry, "https://notexample.com/"), entry)
      assert.isFalse(bypasses(entry, "https://example.com.evil.net/"), entry)
    }
  })

  it("with *.domain match only subdomains", () => {
    assert.isTrue(bypasses("*.example.com", "https://api.example.com/"))
    assert.isFalse(bypasses("*.example.com", "https://example.com/"))
  })

  it("with * alone match every host, wherever it is in the list", () => {
    assert.isTrue(bypasses("*", "https://anything.test/"))
    assert.isTrue(bypasses("internal.corp, *", "http://10.1.2.3:8080/"))
  })

  it("split on commas and tolerate spaces, case and a trailing dot", () => {
    const list = " Internal.Corp ,, licensing.example.com.  "
    assert.isTrue(bypasses(list, "https://LICENSING.example.com/"))
    assert.isTrue(bypasses(list, "https://build.internal.corp./"))
    assert.isFalse(bypasses(list, "https://example.com/"))
  })

  it("limit a host:port entry to that port, counting a URL's default port", () => {
    assert.isTrue(bypasses("example.com:8443", "https://example.com:8443/"))
    assert.isFalse(bypasses("example.com:8443", "https://example.com/"))
    assert.isTrue(bypasses("example.com:443", "https://example.com/"))
    assert.isTrue(bypasses("example.com:80", "http://example.com/"))
    assert.isFalse(bypasses("example.com:80", "https://example.com/"))
  })

  it("understand IPv4 and IPv6 literals, bracketed with a port or bare", () => {
    assert.isTrue(bypasses("127.0.0.1", "http://127.0.0.1:3000/"))
    assert.isTrue(bypasses("::1", "http://[::1]:3000/"))
    assert.isTrue(bypasses("[::1]:3000", "http://[::1]:3000/"))
    assert.isFalse(bypasses("[::1]:3000", "http://[::1]:3001/"))
  })

  it("take a list of entries as well as one string", () => {
    assert.isTrue(bypasses(["a.test", "b.test,c.test"], "https://c.test/"))
    assert.isFalse(bypasses([], "https://c.test/"))
  })

  it("ignore entries they cannot understand instead of matching too much", () => {
    assert.isFalse(bypasses("10.0.0.0/8", "http://10.1.2.3/"))
    assert.isFalse(bypasses("exa*mple.com", "http://example.com/"))
    assert.isFalse(bypasses("", "http://example.com/"))
  })
})

describe("proxy settings", () => {
  it("read the lower-case variables before the upper-case ones, and NO_PROXY with them", () => {
    const resolved = resolveProxyPlan({
      env: {
        http_proxy: "http://lower:1",
        HTTP_PROXY: "http://upper:2",
        HTTPS_PROXY: "http://secure:3",
        NO_PROXY: "internal"
      }
    })
    assert.strictEqual(resolved._tag, "Plan")
    if (resolved._tag !== "Plan") return
    assert.strictEqual(resolved.plan.http?.host, "lower:1")
    assert.strictEqual(resolved.plan.https?.host, "secure:3")
    assert.deepStrictEqual(resolved.plan.noProxy, [{ host: "internal", port: undefined, subdomainsOnly: false }])
  })

  it("do not send https through HTTP_PROXY", () => {
    const resolved = resolveProxyPlan({ env: { HTTP_PROXY: "http://proxy:3128" } })
    assert.strictEqual(resolved._tag === "Plan" ? resolved.plan.https : "invalid", undefined)
  })

  it("take a proxy written without a scheme as http", () => {
    const resolved = resolveProxyPlan({ proxy: { url: "proxy.corp:3128" } })
    assert.strictEqual(resolved._tag === "Plan" ? resolved.plan.http?.href : "invalid", "http://proxy.corp:3128/")
  })

  it("say which setting is wrong and what was expected", () => {
    assert.deepStrictEqual(resolveProxyPlan({ env: { http_proxy: "http://[bad" } }), {
      _tag: "Invalid",
      message: 'http_proxy is "http://[bad", expected a proxy URL such as http://proxy.example:3128'
    })
    assert.deepStrictEqual(resolveProxyPlan({ proxy: "sometimes" as never }), {
      _tag: "Invalid",
      message: 'expected proxy to be "env", "none" or { url }, got "sometimes"'
    })
  })
})
