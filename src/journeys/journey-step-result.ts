import type { StepResult } from '../results/run-result.ts';

export interface JourneyStepResult extends StepResult {
  /**
   * The last page the step loaded: when it started (epoch ms) and, in ms from then, its
   * first byte, DOMContentLoaded and load (absent when the step ended first).
   */
  navigation?: {
    url: string;
    startedAt: number;
    firstByte: number;
    domContentLoaded?: number;
    load?: number;
  };
}

/** What `onStep` hears as steps start and end: `pathwatch run` prints them live. */
export type StepEvent =
  | { type: 'start'; index: number; name: string }
  | { type: 'end'; index: number; step: JourneyStepResult };
