import type { LocationSide } from '../results/verdict.ts';

/** One location's row in an alert's state table. */
export interface AlertLocationRow {
  id: string;
  side: LocationSide;
  description?: string;
  /** UNKNOWN, UP, DEGRADED, DOWN, or NO WORKER when no worker there is alive. */
  state: string;
  /** Since when (epoch ms). */
  since?: number;
  lastError?: string;
  /** Its control check is DOWN: its results are not held against the target. */
  probeHostFault: boolean;
}

/** One phase's time in the failing run against its usual (median of the last day). */
export interface AlertTiming {
  phase: string;
  ms: number;
  medianMs?: number;
}

/** A signed, expiring link in an alert. */
export interface AlertLinks {
  runPage?: string;
  traceViewer?: string;
  trace?: string;
  capture?: string;
  bundle?: string;
  /** When the links stop opening (epoch ms). */
  expiresAt?: number;
}

/**
 * The evidence behind an alert, read when it is sent (not when it was queued: by then the
 * verdict has settled and the failing run's artifacts are in). Every field is optional: a
 * mail says what is known and never invents the rest.
 */
export interface AlertContext {
  /** The verdict's name and its sentence, e.g. `outside-path`, "fails only from outside: …". */
  verdict?: { name: string; summary: string };
  locations: AlertLocationRow[];
  /** The failing run the mail is about: the newest failed run of the check. */
  run?: {
    runId: string;
    location: string;
    startedAt: number;
    /** The failing step's name (journeys, multi-step checks). */
    step?: string;
    error?: { code?: string; class?: string; message: string };
    /** What to do about that error code, in the mail's language. */
    whatToDo?: string;
  };
  timings: AlertTiming[];
  /** The failing step's screenshot, sent inline (Content-ID) in mail. */
  screenshot?: { filename: string; contentType: string; content: Buffer };
  /** The capture analysis's one-line diagnosis for the failing run. */
  diagnosis?: string;
  links: AlertLinks;
}

export const EMPTY_ALERT_CONTEXT: AlertContext = { locations: [], timings: [], links: {} };
