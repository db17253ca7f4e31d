/** Keeps Chromium's own look-ups (Google's hosts) from leaving loopback in tests. */
export const LOOPBACK_ONLY_CHROMIUM_ARGS = [
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
];
