import { CliExit, EXIT_USAGE } from './cli-exit.ts';

/** `server` and `worker` share a Redis with other processes: they never start a private one. */
export function requireRedisUrl(command: string): void {
  if (!process.env.REDIS_URL) {
    throw new CliExit(
      EXIT_USAGE,
      `pathwatch ${command} needs REDIS_URL (the Redis shared with the other pathwatch processes), e.g. REDIS_URL=redis://127.0.0.1:6379`,
    );
  }
}
