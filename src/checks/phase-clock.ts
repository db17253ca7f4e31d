import type { PhaseTimings } from '../results/run-result.ts';

/**
 * Measures consecutive phases of a run (dns → connect → tls → firstByte → download) and
 * remembers which one is running, so a timeout can say which phase ran out.
 */
export class PhaseClock {
  readonly startedAt = performance.now();
  private readonly timings: Record<string, number> = {};
  private phase: string | undefined;
  private phaseStartedAt = this.startedAt;

  constructor(firstPhase?: string) {
    this.phase = firstPhase;
  }

  /** Ends the running phase (adding to its total, for redirects) and starts `phase`. */
  enter(phase: string | undefined): void {
    const now = performance.now();
    if (this.phase) this.timings[this.phase] = (this.timings[this.phase] ?? 0) + (now - this.phaseStartedAt);
    this.phase = phase;
    this.phaseStartedAt = now;
  }

  get current(): string | undefined {
    return this.phase;
  }

  elapsed(): number {
    return performance.now() - this.startedAt;
  }

  /** Closes the running phase and returns every phase rounded to 0.1 ms. */
  finish(): PhaseTimings {
    this.enter(undefined);
    const rounded: PhaseTimings = { total: round(this.elapsed()) };
    for (const [phase, ms] of Object.entries(this.timings)) rounded[phase] = round(ms);
    return rounded;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
