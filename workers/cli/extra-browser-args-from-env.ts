/** PATHWATCH_EXTRA_BROWSER_ARGS: extra Chromium flags, one per line (tests keep Chromium on loopback). */
export function extraBrowserArgsFromEnv(): string[] {
  return (process.env.PATHWATCH_EXTRA_BROWSER_ARGS ?? '').split('\n').filter(Boolean);
}
