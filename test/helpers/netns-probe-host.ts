// A probe host inside a network namespace: `ip netns exec <ns> node --import tsx <this file>`.
// Reads one JSON request per line ({ config, checkId, location, runId, scheduledAt }), runs the
// check with pathwatch's own runCheck from inside the namespace, and prints the RunResult as
// one JSON line. Lets a test give each location its own network (and its own firewall).
import { createInterface } from 'node:readline';
import { runCheck } from '../../src/checks/run-check.ts';
import { parseConfig } from '../../src/config/load-config.ts';

interface ProbeRequest {
  config: Record<string, unknown>;
  checkId: string;
  location: string;
  runId: string;
  scheduledAt?: number;
}

const lines = createInterface({ input: process.stdin });
console.log(JSON.stringify({ ready: true }));
/** Requests run at once, each answered when it finishes (the caller matches by runId). */
async function handle(line: string): Promise<void> {
  const request = JSON.parse(line) as ProbeRequest;
  const config = await parseConfig(request.config, '/tmp/netns-probe-host.yaml');
  const check = config.checks.find((candidate) => candidate.id === request.checkId);
  if (!check) throw new Error(`no check ${request.checkId}`);
  const result = await runCheck(check, {
    location: request.location,
    secrets: config.secrets,
    configDir: config.dir,
    runId: request.runId,
    scheduledAt: request.scheduledAt,
  });
  console.log(JSON.stringify(result));
}

for await (const line of lines) void handle(line);
