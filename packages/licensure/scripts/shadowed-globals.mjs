// A rollup plugin for the declaration bundle, run before rollup-plugin-dts: in every .d.ts it rewrites a type
// reference to a global type that the file shadows with a value of the same name into `globalThis.X`.
//
// Why: effect's modules declare values named after globals (`Array.d.ts` has `declare const Array:
// ArrayConstructor` and uses `Array<A>` in types, meaning the global interface; `Schema.d.ts` has `namespace
// Record` and `const PropertyKey` beside uses of the global `Record<K, V>` and `PropertyKey` types). TypeScript
// keeps values and types apart, so there `Array<A>` is the global. Rollup binds identifiers as JavaScript does,
// one meaning per name: it ties `Array<A>` to the local `const Array`, and when the bundle renames that const to
// `Array$2` (to keep the global `Array` reachable elsewhere) the type becomes `Array$2<A>`, which refers to a
// value (TS2749) or a namespace (TS2709) for a consumer with skipLibCheck off. `globalThis.Array<A>` means the
// same type in the original file and survives any renaming.
import ts from "typescript"

const isDts = (id) => /\.d\.[cm]?ts$/.test(id)

/** The names a block of statements declares, split by meaning: a type (or something that might be one), a value. */
const declared = (statements) => {
  const types = new Set()
  const values = new Set()
  for (const s of statements) {
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name)) values.add(d.name.text)
    } else if (ts.isFunctionDeclaration(s) && s.name !== undefined) {
      values.add(s.name.text)
    } else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name)) {
      values.add(s.name.text)
    } else if (
      (ts.isInterfaceDeclaration(s) ||
        ts.isTypeAliasDeclaration(s) ||
        ts.isClassDeclaration(s) ||
        ts.isEnumDeclaration(s)) &&
      s.name !== undefined
    ) {
      types.add(s.name.text)
    } else if (ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s)) {
      // An import may bring a type under any of its names: never treat those as value-only.
      const clause = ts.isImportDeclaration(s) ? s.importClause : undefined
      if (ts.isImportEqualsDeclaration(s)) types.add(s.name.text)
      if (clause?.name !== undefined) types.add(clause.name.text)
      const bindings = clause?.namedBindings
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) types.add(bindings.name.text)
      if (bindings !== undefined && ts.isNamedImports(bindings))
        for (const e of bindings.elements) types.add(e.name.text)
    }
  }
  return { types, values }
}

/** The type parameters a node declares (they shadow a global type too). */
const typeParameters = (node) => new Set((node.typeParameters ?? []).map((p) => p.name.text))

/**
 * The edits for one declaration file: each unqualified type reference (or interface heritage) whose name the
 * innermost enclosing declarations give only a value meaning, so that TypeScript resolves it to the global.
 */
export const shadowedGlobalEdits = (fileName, text) => {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true)
  const edits = []
  // scopes: innermost last; each { types, values }.
  const visit = (node, scopes) => {
    let inner = scopes
    if (ts.isSourceFile(node) || ts.isModuleBlock(node)) inner = [...scopes, declared(node.statements)]
    else if (node.typeParameters !== undefined) inner = [...scopes, { types: typeParameters(node), values: new Set() }]
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node) && ts.isInterfaceDeclaration(node.parent?.parent)
        ? node.expression
        : undefined
    if (name !== undefined && ts.isIdentifier(name)) {
      const scope = [...inner].reverse().find((s) => s.types.has(name.text) || s.values.has(name.text))
      if (scope !== undefined && !scope.types.has(name.text)) {
        edits.push({ start: name.getStart(source), end: name.getEnd(), text: `globalThis.${name.text}` })
      }
    }
    ts.forEachChild(node, (child) => visit(child, inner))
  }
  visit(source, [])
  return edits
}

/** Applies the edits, last first so the offsets hold. */
export const rewriteShadowedGlobals = (fileName, text) => {
  const edits = shadowedGlobalEdits(fileName, text).sort((a, b) => b.start - a.start)
  let out = text
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return { code: out, count: edits.length }
}

/** The rollup plugin; `stats.rewritten` counts the references rewritten, for the build's log. */
export const shadowedGlobals = (stats = { rewritten: 0, files: 0 }) => ({
  name: "shadowed-globals",
  transform(code, id) {
    if (!isDts(id)) return null
    const { code: out, count } = rewriteShadowedGlobals(id, code)
    if (count === 0) return null
    stats.rewritten += count
    stats.files += 1
    return { code: out, map: null }
  }
})
