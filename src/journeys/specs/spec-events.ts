/**
 * What the pathwatch reporter (pathwatch-spec-reporter.mjs), inside the Playwright Test
 * child, tells the runner (run-spec-test.ts): one JSON object a line, appended to the file
 * named in the reporter's options as it happens, so a child killed at its deadline still
 * leaves the steps it began.
 */
export type SpecEvent =
  | { type: 'step-begin'; title: string; category: string; startedAt: number }
  | {
      type: 'step-end';
      title: string;
      category: string;
      startedAt: number;
      durationMs: number;
      error?: string;
    }
  | {
      type: 'test-end';
      status: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
      durationMs: number;
      errors: string[];
      attachments: Array<{ name: string; contentType: string; path?: string }>;
    }
  | { type: 'run-end'; status: string; errors: string[] };

/** Parses an events file; a line cut short by a kill is skipped. */
export function parseSpecEvents(text: string): SpecEvent[] {
  const events: SpecEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as SpecEvent);
    } catch {
      // the last line of a killed child
    }
  }
  return events;
}
