/**
 * A journey file's exports as its author wrote them, whether the file was loaded as an ES
 * module or as CommonJS. In a QA repository whose package.json does not say
 * `"type": "module"`, tsx compiles `export default journey(…)` to CommonJS
 * (`exports.default = …`, marked `__esModule`), and importing that yields a namespace whose
 * `default` is the whole `module.exports`: `{ default: { default: journey } }`. Reading that
 * as the journey reported `unknown key "default"`, which hid the cause. A hand-written
 * `module.exports = journey(…)` needs no unwrapping: its `default` is the journey.
 */
export function esModuleView(namespace: Record<string, unknown>): Record<string, unknown> {
  let inner: unknown;
  try {
    inner = namespace.default;
  } catch {
    return namespace;
  }
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return namespace;
  const exportsObject = inner as Record<string, unknown>;
  // A journey itself (or a malformed one, to be diagnosed key by key) is left as it is.
  if ('run' in exportsObject || 'id' in exportsObject) return namespace;
  let compiledFromEsm = false;
  try {
    compiledFromEsm = exportsObject.__esModule === true;
  } catch {
    // A getter that throws: not TypeScript's or esbuild's marker.
  }
  const hasModuleExports = 'default' in exportsObject || 'journey' in exportsObject;
  return compiledFromEsm || hasModuleExports ? exportsObject : namespace;
}
