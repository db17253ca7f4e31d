import { spawn } from 'node:child_process';
import { isIP } from 'node:net';
import { z } from 'zod';
import { describeAssertionFailure } from '../assertions/http-expectations.ts';
import { duration, expected, strictObject } from '../config/zod-helpers.ts';
import { type CodedRunError, errorOf } from '../results/error-codes.ts';
import type { AssertionResult, ProbeOutcome } from '../results/run-result.ts';
import { checkSchemaWithoutTlsOrAuth } from './check-schema-without-tls-or-auth.ts';
import { timeoutError } from './network-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { ipVersion } from './remote-endpoint.ts';
import { timeLimitAssertions, timeLimitFields } from './time-limits.ts';

/** A host name (RFC 1123 labels) or an IP address, IPv6 with an optional `%zone`. */
const HOST_NAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/** The host as ping takes it: `[::1]` → `::1` (a zone such as `%eth0` stays). */
function unbracketed(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

/** The address without brackets or zone, for isIP. */
function bareAddress(host: string): string {
  return unbracketed(host).replace(/%[A-Za-z0-9_.-]+$/, '');
}

/**
 * The `ping:` block. Its `interval` is the gap between echo requests within one run; how
 * often the check runs is the check's own top-level `interval`, as for every kind.
 */
export const pingSettingsSchema = strictObject(
  {
    host: z
      .string({ error: expected('a host name or IP address such as "10.0.0.1"') })
      .refine(
        // Checked strictly because it becomes a command-line argument of ping.
        (host) => isIP(bareAddress(host)) !== 0 || HOST_NAME_RE.test(host),
        {
          error: (issue) =>
            `expected a host name or IP address such as "10.0.0.1", got ${JSON.stringify(issue.input)}`,
        },
      )
      .describe(
        "Host to send ICMP echo requests to: `10.0.0.1`, `2001:db8::1`, `fe80::1%eth0` or a name, resolved by the worker's resolver. Required.",
      ),
    count: z.number().int().min(1).max(100).default(3).describe('Echo requests to send per run. Default 3.'),
    interval: duration({ min: 10, max: 10_000 })
      .default(200)
      .describe(
        'Gap between echo requests within one run (`ping -i`), not how often the check runs. Default 200ms, the least ping allows a user without root.',
      ),
    ipVersion: ipVersion().describe(
      '`4` or `6` forces the address family (`ping -4`/`-6`); `any` lets the resolver choose. Default `any`.',
    ),
    size: z
      .number()
      .int()
      .min(0)
      .max(65_507)
      .optional()
      .describe("ICMP payload bytes (`ping -s`); large sizes test the path MTU. Default ping's 56."),
    maxLoss: z
      .number()
      .min(0)
      .lt(100, { error: (issue) => `must be below 100 (no reply at all always fails), got ${issue.input}` })
      .default(50)
      .describe(
        'Highest packet loss in percent that still passes; no reply at all always fails. Default 50.',
      ),
    degradedLoss: z
      .number()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'Loss in percent above which a passing run is degraded. Default 0: any lost reply is worth a look.',
      ),
    ...timeLimitFields(
      { name: 'maxRtt', description: 'Highest average round-trip time that passes. Default none.' },
      {
        name: 'degradedRtt',
        description: 'Average round-trip time above which a passing run is degraded. Default none.',
      },
    ),
  },
  { what: 'the ping settings, such as { host: "10.0.0.1" }' },
)
  .superRefine((settings, ctx) => {
    // Caught at load time: ping would only say "Address family for hostname not supported".
    const family = isIP(bareAddress(settings.host));
    if (family !== 0 && settings.ipVersion !== 'any' && family !== settings.ipVersion)
      ctx.addIssue({
        code: 'custom',
        path: ['ipVersion'],
        message: `host ${settings.host} is an IPv${family} address, but ipVersion is ${settings.ipVersion}`,
      });
  })
  .describe('The echo requests of one run and the loss and round-trip limits.');

export const pingCheckSchema = checkSchemaWithoutTlsOrAuth('ping', pingSettingsSchema);
export type PingCheck = z.output<typeof pingCheckSchema>;
export type PingSettings = PingCheck['ping'];

/** Time ping needs to exit and print its summary after its last wait, kept off the deadline. */
const EXIT_MARGIN_MS = 300;
/** Shortest wait for the last reply worth running ping for. */
const MIN_REPLY_WAIT_MS = 100;
/** After SIGINT (ping prints its summary and exits), this long before SIGKILL. */
const KILL_GRACE_MS = 500;
/** Output kept from ping; 100 replies are about 6 KiB. */
const OUTPUT_LIMIT = 256 * 1024;

/** What iputils ping printed, as far as it got. */
export interface PingOutput {
  /** The address ping resolved and used, from its `PING host (address)` line. */
  address?: string;
  transmitted?: number;
  received?: number;
  duplicates?: number;
  /** ICMP errors received instead of replies (`+3 errors`). */
  errors?: number;
  rtt?: { min: number; avg: number; max: number; mdev: number };
  replies: Array<{ seq: number; ttl?: number; ms: number }>;
  /** `From 10.0.0.254 icmp_seq=1 Destination Host Unreachable` lines. */
  icmpErrors: string[];
  /** ping's own complaints, one per line (`ping: socket: Operation not permitted`). */
  stderrLines: string[];
}

/** Parses iputils ping output (run with `-n` and LC_ALL=C). Tolerant: missing parts stay undefined. */
export function parsePingOutput(stdout: string, stderr: string): PingOutput {
  const output: PingOutput = {
    replies: [],
    icmpErrors: [],
    stderrLines: stderr
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
  };
  for (const rawLine of stdout.split('\n')) {
    const line = rawLine.trim();
    const header = /^PING\s+\S+?\s*\(([^)\s]+)\)/.exec(line);
    if (header) {
      output.address ??= header[1];
      continue;
    }
    const reply = /^\d+ bytes from .*?icmp_seq=(\d+)(?: ttl=(\d+))?.*? time[=<]([\d.]+) ms/.exec(line);
    if (reply) {
      output.replies.push({
        seq: Number(reply[1]),
        ...(reply[2] ? { ttl: Number(reply[2]) } : {}),
        ms: Number(reply[3]),
      });
      continue;
    }
    if (/^From \S+.* icmp_seq=\d+/.test(line)) {
      output.icmpErrors.push(line);
      continue;
    }
    const summary = /^(\d+) packets transmitted, (\d+) (?:packets )?received(.*)$/.exec(line);
    if (summary) {
      output.transmitted = Number(summary[1]);
      output.received = Number(summary[2]);
      const duplicates = /\+(\d+) duplicates/.exec(summary[3]);
      const errors = /\+(\d+) errors/.exec(summary[3]);
      if (duplicates) output.duplicates = Number(duplicates[1]);
      if (errors) output.errors = Number(errors[1]);
      continue;
    }
    const rtt =
      /^(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(
        line,
      );
    if (rtt) {
      const [min, avg, max, mdev] = rtt.slice(1).map(Number);
      output.rtt = { min, avg, max, mdev };
    }
  }
  return output;
}

/** Loss in percent from the counts, to one decimal (ping itself prints `33.3333%`). */
export function lossPercent(output: PingOutput): number | undefined {
  if (output.transmitted === undefined || output.received === undefined || output.transmitted === 0)
    return undefined;
  const lost = Math.max(0, output.transmitted - output.received);
  return Math.round((lost / output.transmitted) * 1000) / 10;
}

/** A failure ping reported on stderr, before or instead of its statistics; undefined if none. */
export function pingStderrProblem(
  output: PingOutput,
  host: string,
): { status: 'fail' | 'error'; error: CodedRunError } | undefined {
  const text = output.stderrLines.join('; ');
  if (!text) return undefined;
  const dns =
    /(Name or service not known|No address associated with hostname|Temporary failure in name resolution|Address family for hostname not supported|Non-recoverable failure in name resolution)/.exec(
      text,
    );
  if (dns) {
    const reason = dns[1];
    const message =
      reason === 'Temporary failure in name resolution'
        ? `dns lookup of ${host} failed temporarily (${reason})`
        : reason === 'Address family for hostname not supported'
          ? `dns lookup of ${host} found no address of the asked family (${reason})`
          : `dns lookup of ${host} found no address (${reason})`;
    const code = reason === 'Temporary failure in name resolution' ? 'DNS_FAILED' : 'DNS_NOT_FOUND';
    return { status: 'fail', error: errorOf(code, message, 'dns') };
  }
  if (/sendmsg: Operation not permitted/.test(text))
    return {
      status: 'error',
      error: errorOf(
        'PING_UNAVAILABLE',
        `this host refused to send ICMP to ${host} (${firstLine(output, /sendmsg/)}): a local firewall rule blocks it`,
      ),
    };
  if (/(socket|socktype).*(Operation not permitted|Permission denied)|cap_net_raw/.test(text))
    return {
      status: 'error',
      error: errorOf(
        'PING_UNAVAILABLE',
        `ping is not permitted to open an ICMP socket on this host: ${text} (run the worker as root, give the ping binary cap_net_raw, or allow its group in net.ipv4.ping_group_range)`,
      ),
    };
  if (/Network is unreachable/.test(text))
    return {
      status: 'fail',
      error: errorOf('UNREACHABLE', `no route to ${host} from this host (${text})`, 'echo'),
    };
  if (/cannot flood|minimal interval/.test(text))
    return { status: 'error', error: errorOf('CONFIG', `ping refused the interval: ${text}`) };
  return undefined;
}

function firstLine(output: PingOutput, pattern: RegExp): string {
  return output.stderrLines.find((line) => pattern.test(line)) ?? output.stderrLines[0] ?? '';
}

interface PingRun {
  output: PingOutput;
  exitCode: number | null;
  /** Set when ping could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
  /** Stopped at the deadline (SIGINT, so ping still printed what it had). */
  aborted: boolean;
}

export interface PingProbeOptions {
  /** The ping executable; default `ping` from PATH (iputils-ping). Tests point it elsewhere. */
  binary?: string;
}

/** A ping probe using the given executable; `pingProbe` is the one the registry uses. */
export function createPingProbe(options: PingProbeOptions = {}): Probe<PingCheck> {
  const binary = options.binary ?? 'ping';
  return {
    async run(check, context) {
      const settings = check.ping;
      const literal = isIP(bareAddress(settings.host)) !== 0;
      const clock = new PhaseClock(literal ? 'echo' : 'dns');
      const sendingMs = (settings.count - 1) * settings.interval;
      // -W (wait for replies after the last request), not -w: with -w iputils keeps
      // sending past -c until the deadline (measured: -c 3 -w 2 sent 10), and the loss
      // would no longer be out of `count`.
      const replyWaitMs = context.deadline - Date.now() - sendingMs - EXIT_MARGIN_MS;
      if (replyWaitMs < MIN_REPLY_WAIT_MS) {
        return {
          status: 'error',
          phases: clock.finish(),
          peers: [],
          error: errorOf(
            'CONFIG',
            `ping ${settings.host}: ${settings.count} requests every ${settings.interval} ms take ${sendingMs} ms, leaving no time for replies within the ${Math.round(context.timeoutMs)} ms timeout: raise timeout or lower count or interval`,
          ),
        };
      }
      const args = [
        '-n',
        ...(settings.ipVersion === 'any' ? [] : [`-${settings.ipVersion}`]),
        '-c',
        String(settings.count),
        '-i',
        seconds(settings.interval),
        '-W',
        seconds(replyWaitMs),
        ...(settings.size === undefined ? [] : ['-s', String(settings.size)]),
        '--',
        unbracketed(settings.host),
      ];
      const run = await runPingProcess(binary, args, context, clock);
      const outcome = pingVerdict(settings, run, {
        binary,
        phase: clock.current,
        timeoutMs: context.timeoutMs,
      });
      const peerIp = run.output.address ?? (literal ? bareAddress(settings.host) : undefined);
      return {
        ...outcome,
        phases: clock.finish(),
        peers: peerIp ? [{ ip: peerIp, port: 0 }] : [],
        details: {
          host: settings.host,
          ...(run.output.address ? { address: run.output.address } : {}),
          command: [binary, ...args].join(' '),
          exitCode: run.exitCode,
          ...pingFacts(run.output),
        },
      };
    },
  };
}

export const pingProbe: Probe<PingCheck> = createPingProbe();

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

/** Runs ping without a shell; SIGINT at the deadline (ping then prints its summary), SIGKILL if it lingers. */
function runPingProcess(
  binary: string,
  args: string[],
  context: ProbeContext,
  clock: PhaseClock,
): Promise<PingRun> {
  return new Promise<PingRun>((resolve) => {
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' }, // ping's messages are parsed: keep them in English
    });
    const onAbort = () => {
      aborted = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += chunk;
      // ping prints its PING line once the name is resolved: the dns phase is over.
      if (clock.current === 'dns' && /^PING /m.test(stdout)) clock.enter('echo');
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += chunk;
    });
    const finish = (exitCode: number | null, spawnError?: NodeJS.ErrnoException) => {
      clearTimeout(killTimer);
      context.signal.removeEventListener('abort', onAbort);
      resolve({ output: parsePingOutput(stdout, stderr), exitCode, spawnError, aborted });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Only a failed spawn ends the run here; other errors (a failed kill) still end in 'close'.
      if (child.pid === undefined) finish(null, error);
    });
    child.on('close', (code) => {
      if (child.pid !== undefined) finish(code);
    });
    if (child.pid !== undefined) {
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

interface VerdictContext {
  binary: string;
  /** Phase running when ping ended: `dns` if it never printed its PING line. */
  phase: string | undefined;
  timeoutMs: number;
}

/** Status, error and assertions from one ping run. */
export function pingVerdict(
  settings: PingSettings,
  run: PingRun,
  context: VerdictContext,
): Pick<ProbeOutcome, 'status' | 'error' | 'assertions'> {
  const { output } = run;
  const target =
    output.address && output.address !== settings.host
      ? `${settings.host} (${output.address})`
      : settings.host;
  if (run.spawnError) {
    const code = run.spawnError.code ?? '';
    const message =
      code === 'ENOENT'
        ? `ping binary "${context.binary}" not found (spawn ${context.binary} ENOENT): install iputils-ping`
        : `ping binary "${context.binary}" could not be started: ${run.spawnError.message}`;
    return { status: 'error', error: errorOf(code === 'ENOENT' ? 'PING_UNAVAILABLE' : 'INTERNAL', message) };
  }
  const problem = pingStderrProblem(output, settings.host);
  if (problem) return problem;
  if (run.aborted) {
    if (context.phase === 'dns')
      return { status: 'fail', error: timeoutError('dns', settings.host, context.timeoutMs) };
    return {
      status: 'fail',
      error: errorOf(
        'TIMEOUT',
        `ping ${target} stopped at the deadline of ${Math.round(context.timeoutMs)} ms after ${output.transmitted ?? 0} echo requests, ${output.received ?? 0} replies`,
        'echo',
      ),
    };
  }
  const loss = lossPercent(output);
  if (loss === undefined || output.transmitted === undefined || output.received === undefined) {
    const said = output.stderrLines.join('; ') || 'no output';
    return {
      status: 'error',
      error: errorOf(
        'INTERNAL',
        `ping ${settings.host} exited with code ${run.exitCode} without statistics: ${said}`,
      ),
    };
  }
  const counts = `${output.transmitted} sent, ${output.received} received`;
  if (output.received === 0) {
    if (output.icmpErrors.length > 0)
      return {
        status: 'fail',
        error: errorOf(
          // A port or a firewall answering is a refusal; a router without a route is not.
          /port unreachable|prohibited/i.test(output.icmpErrors[0]) ? 'CONNECT_REFUSED' : 'UNREACHABLE',
          `${target} unreachable: ${output.icmpErrors[0]} (${counts})`,
          'echo',
        ),
      };
    return {
      status: 'fail',
      error: errorOf('NO_ECHO_REPLY', `no echo reply from ${target} (${counts}, 100% loss)`, 'echo'),
    };
  }
  const assertions = pingAssertions(settings, loss, output.rtt?.avg);
  const failed = assertions.find((result) => !result.ok && !result.degraded);
  if (failed)
    return {
      status: 'fail',
      assertions,
      error: errorOf(
        failed.name.startsWith('packet loss')
          ? 'PACKET_LOSS'
          : failed.name.startsWith('average')
            ? 'SLOW_RESPONSE'
            : 'ASSERTION',
        `ping ${target}: ${describeAssertionFailure(failed)} (${counts})`,
      ),
    };
  const degraded = assertions.some((result) => result.degraded);
  return { status: degraded ? 'degraded' : 'pass', assertions };
}

function pingAssertions(settings: PingSettings, loss: number, avgRtt: number | undefined): AssertionResult[] {
  const results: AssertionResult[] = [
    {
      name: `packet loss at most ${settings.maxLoss}%`,
      ok: loss <= settings.maxLoss,
      expected: `<= ${settings.maxLoss}%`,
      actual: `${loss}%`,
    },
  ];
  if (loss > settings.degradedLoss && loss <= settings.maxLoss)
    results.push({
      name: `packet loss at most ${settings.degradedLoss}% (degraded limit)`,
      ok: false,
      degraded: true,
      expected: `<= ${settings.degradedLoss}%`,
      actual: `${loss}%`,
    });
  if (avgRtt === undefined) return results;
  const limits = { max: settings.maxRtt, degraded: settings.degradedRtt };
  results.push(...timeLimitAssertions(avgRtt, avgRtt, limits, (limit) => `average rtt at most ${limit} ms`));
  return results;
}

/** The facts worth keeping in `details`. */
function pingFacts(output: PingOutput): Record<string, unknown> {
  return {
    ...(output.transmitted === undefined
      ? {}
      : { transmitted: output.transmitted, received: output.received }),
    ...(output.duplicates ? { duplicates: output.duplicates } : {}),
    ...(output.errors ? { icmpErrors: output.errors } : {}),
    ...(lossPercent(output) === undefined ? {} : { lossPercent: lossPercent(output) }),
    ...(output.rtt ? { rtt: output.rtt } : {}),
    replies: output.replies,
    ...(output.icmpErrors.length > 0 ? { icmpErrorLines: output.icmpErrors.slice(0, 10) } : {}),
  };
}
