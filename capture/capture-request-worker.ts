import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import { captureQueueName } from '../src/util/host-id.ts';
import type { Logger } from '../src/util/logger.ts';
import type { CaptureAgent } from './capture-agent.ts';

/** A request for more of a run's capture, sent to the host that ran it. */
export interface CaptureRequest {
  runId: string;
  /** Every packet the ring holds in the window, not only the run's own flows. */
  unfiltered: boolean;
}

export function openCaptureRequestQueue(
  hostId: string,
  connection: Redis,
  prefix: string,
): Queue<CaptureRequest> {
  return new Queue<CaptureRequest>(captureQueueName(hostId), { connection, prefix });
}

/**
 * Serves capture requests for this host (from the API: "give me the unfiltered window of
 * that run"): the ring is here, so the slice is cut here and stored as the run's artifact.
 */
export function startCaptureRequestWorker(options: {
  agent: CaptureAgent;
  hostId: string;
  connection: Redis;
  prefix: string;
  recorder: ResultsRecorder;
  logger: Logger;
}): Worker<CaptureRequest> {
  const worker = new Worker<CaptureRequest>(
    captureQueueName(options.hostId),
    async (job) => {
      const run = await options.recorder.runs.getRun(job.data.runId);
      if (!run) throw new Error(`run "${job.data.runId}" is not stored (expired?)`);
      const evidence = await options.agent.collectOnRequest(run, { unfiltered: job.data.unfiltered });
      if (!evidence) throw new Error('this host is not capturing');
      await options.recorder.runs.attachEvidence(run.runId, evidence.artifacts, {});
      options.logger.info(
        { runId: run.runId, unfiltered: job.data.unfiltered, bytesRead: evidence.bytesRead },
        'capture request served',
      );
      return { artifacts: evidence.artifacts.map((artifact) => artifact.key) };
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) =>
    options.logger.warn({ runId: job?.data.runId, err: error.message }, 'capture request failed'),
  );
  return worker;
}
