/**
 * A pathwatch-like process that owns one capture ring and nothing else, for tests that kill
 * it outright: `node --import tsx ring-owner-process.ts <ringDir>`. Prints one JSON line
 * ({"pid", "tcpdumpPid"} once capturing, or {"error", "code"} when the ring is refused), then
 * runs until killed.
 */
import { TcpdumpRing } from '../../capture/tcpdump-ring.ts';

const dir = process.argv[2];
let tcpdumpPid: number | undefined;
const ring = new TcpdumpRing({
  dir,
  interface: 'lo',
  filter: 'tcp port 9',
  ringSize: 2_000_000,
  fileSize: 1_000_000,
  maxAge: 600_000,
  snaplen: 256,
  bufferSize: 1024 * 1024,
  onEvent: (event) => {
    if (event.type === 'started') tcpdumpPid = event.pid;
  },
});
try {
  await ring.start();
  console.log(JSON.stringify({ pid: process.pid, tcpdumpPid }));
  setInterval(() => {}, 60_000);
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message, code: (error as { code?: string }).code }));
  process.exit(3);
}
