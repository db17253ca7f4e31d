import { createHash, randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import type { RunJobData } from '../src/scheduler/run-queue.ts';
import { slotOf } from '../src/scheduler/slot-of.ts';

/** The job fields a run id is derived from. */
export interface RunIdSource {
  id?: string;
  /** When the job was created (epoch ms): differs between installs that reuse job ids. */
  timestamp: number;
  data: Pick<RunJobData, 'runNonce'>;
}

/** 24 base36 characters: a valid artifact-key segment (no leading `-`/`_`), case-insensitive safe. */
const RUN_ID_LENGTH = 24;

/**
 * The run id is derived from the job, not drawn per attempt: a job that BullMQ hands out
 * again (its worker died mid-run) is stored under the same id, so it is counted once. Job
 * ids restart at 1 in a fresh Redis and scheduler job ids repeat across installs of the
 * same config, so the job's creation time and a random nonce kept in its data (see
 * `ensureRunNonce`) are mixed in: ids differ across installs and Redis restarts. Lowercase
 * letters and digits only, so every id is a valid path segment and object-store key.
 */
export function runIdForJob(queueName: string, job: RunIdSource): string {
  const digest = createHash('sha256')
    .update(`${queueName}/${job.id}/${job.timestamp}/${job.data.runNonce ?? ''}`)
    .digest('hex');
  return BigInt(`0x${digest}`).toString(36).padStart(RUN_ID_LENGTH, '0').slice(0, RUN_ID_LENGTH);
}

/**
 * Gives the job its random nonce on first processing and keeps it in the job's data, so a
 * redone job (stalled, picked up again) finds the same nonce and gets the same run id.
 */
export async function ensureRunNonce(job: Job<RunJobData>): Promise<void> {
  if (job.data.runNonce) return;
  await job.updateData({ ...job.data, runNonce: randomBytes(12).toString('hex') });
}

/** The run id of a job being processed: its nonce is stored first. */
export async function runIdOf(queueName: string, job: Job<RunJobData>): Promise<string> {
  await ensureRunNonce(job);
  return runIdForJob(queueName, job);
}

/** When the run was meant to start: the scheduler's slot for repeat jobs, else the request. */
export function scheduledAtOf(job: Job<RunJobData>): number {
  return slotOf(job) ?? job.data.requestedAt ?? job.timestamp + (job.opts.delay ?? 0);
}
