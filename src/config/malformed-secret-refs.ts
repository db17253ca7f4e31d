/** Anything written like a secret reference: `${word:…}`. */
const REF_LIKE_RE = /\$\{([A-Za-z][A-Za-z0-9_-]*):([^}]*)\}/g;
const VALID_REF_RE = /^\$\{(env|file):([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * References that look like secrets but are not ones pathwatch resolves (`${vault:X}`,
 * `${env:my-token}`): left alone they would be sent literally, so each is a config problem.
 */
export function malformedSecretRefsIn(text: string): Array<{ ref: string; problem: string }> {
  const found: Array<{ ref: string; problem: string }> = [];
  for (const match of text.matchAll(REF_LIKE_RE)) {
    const [ref, source, name] = match;
    if (VALID_REF_RE.test(ref)) continue;
    found.push({
      ref,
      problem:
        source === 'env' || source === 'file'
          ? `the name "${name}" must be letters, digits and "_", not starting with a digit`
          : `unknown secret source "${source}"; pathwatch reads \${env:NAME} (environment) and \${file:NAME} (the secretsFile)`,
    });
  }
  return found;
}
