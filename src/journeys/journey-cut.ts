import type { Browser } from 'playwright';
import { RunCancelledError } from '../checks/run-cancelled-error.ts';
import { JourneyInterrupt } from './journey-interrupt.ts';
import type { LoadedJourney } from './load-journey.ts';

/**
 * The three ways a running journey is cut short: its deadline, the caller's signal (a stop)
 * and a browser crash. The first one rejects `interrupted` (raced against the body) and
 * aborts `signal` (the body's own `signal`, and no step starts after it).
 */
export class JourneyCut {
  /** Rejects with the JourneyInterrupt that cut the run; observed through Promise.race. */
  readonly interrupted: Promise<never>;
  /** True once the caller's signal has cut the run: it keeps no evidence. */
  cancelled = false;
  /** The step running now, named in the interrupt's message. */
  running: { index: number; name: string } | undefined;
  readonly #controller = new AbortController();
  readonly #deadline: NodeJS.Timeout;
  readonly #browser: Browser;
  readonly #signal: AbortSignal | undefined;
  readonly #onDisconnected: () => void;
  readonly #onCancel: () => void;

  constructor(
    journey: Pick<LoadedJourney, 'id' | 'timeout'>,
    browser: Browser,
    signal: AbortSignal | undefined,
  ) {
    this.#browser = browser;
    this.#signal = signal;
    let interrupt: (reason: JourneyInterrupt) => void = () => {};
    this.interrupted = new Promise<never>((_, reject) => {
      interrupt = (reason) => {
        reject(reason);
        this.#controller.abort(reason);
      };
    });
    this.interrupted.catch(() => {}); // observed through Promise.race by the caller
    const where = () => (this.running ? ` step ${this.running.index} "${this.running.name}"` : '');
    this.#onDisconnected = () =>
      interrupt(
        new JourneyInterrupt('INTERNAL', 'error', `journey "${journey.id}"${where()}: browser crashed`),
      );
    browser.on('disconnected', this.#onDisconnected);
    this.#onCancel = () => {
      this.cancelled = true;
      interrupt(
        new JourneyInterrupt(
          'CANCELLED',
          'error',
          `journey "${journey.id}"${where()}: ${RunCancelledError.messageOf(signal?.reason)}`,
        ),
      );
    };
    if (signal?.aborted) this.#onCancel();
    else signal?.addEventListener('abort', this.#onCancel, { once: true });
    this.#deadline = setTimeout(
      () =>
        interrupt(
          new JourneyInterrupt(
            'TIMEOUT',
            'fail',
            `journey "${journey.id}"${where()}: journey timeout of ${journey.timeout} ms exceeded`,
          ),
        ),
      journey.timeout,
    );
  }

  /** Aborted when the run is cut (deadline, cancel, crash), and once the run has ended. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The body has ended: its deadline no longer applies. */
  clearDeadline(): void {
    clearTimeout(this.#deadline);
  }

  /** The run has ended: stop listening, and tell a body still running that it is over. */
  dispose(): void {
    clearTimeout(this.#deadline);
    this.#browser.off('disconnected', this.#onDisconnected);
    this.#signal?.removeEventListener('abort', this.#onCancel);
    this.#controller.abort();
  }
}
