import { hostname } from 'node:os';
import type { RingLockContent } from './ring-lock.ts';
import { RingStartError } from './ring-start-error.ts';

/**
 * Another live pathwatch writes this ring directory: a second tcpdump on the same files would
 * corrupt them, so this one does not start.
 */
export class RingLockedError extends RingStartError {
  override readonly code = 'CAPTURE_RING_LOCKED';

  constructor(
    readonly dir: string,
    readonly holder: RingLockContent | undefined,
  ) {
    super(
      holder
        ? `capture ring ${dir} is in use by pathwatch pid ${holder.owner.pid}${holder.host !== hostname() ? ` on host ${holder.host}` : ''}${holder.tcpdump ? ` (tcpdump pid ${holder.tcpdump.pid})` : ''} since ${holder.since}: one ring has one writer; stop that process or give this one another data dir`
        : `capture ring ${dir} is locked by another process (unreadable ${dir}/ring.lock; taken over once it is 10 s old)`,
    );
    this.name = 'RingLockedError';
  }
}
