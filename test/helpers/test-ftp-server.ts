import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FtpSrv } from 'ftp-srv';
import { closedPort } from './test-servers.ts';

export interface TestFtpServer {
  port: number;
  /** The folder served as "/". */
  root: string;
  /** Passive data ports the server may hand out. */
  pasvRange: { min: number; max: number };
  close(): Promise<void>;
}

export interface TestFtpServerOptions {
  /** Files to serve, path under the root → content. */
  files: Record<string, string | Buffer>;
  /** Accepted logins, user name → password; anonymous login is refused. */
  users: Record<string, string>;
  /** Certificate for FTPS; with `implicitTls` TLS starts at the first byte, else AUTH TLS is offered. */
  tls?: { key: string; cert: string };
  implicitTls?: boolean;
}

/** Passive ports per server: one data connection at a time, a few spare for ports in use. */
const PASV_PORTS = 20;

function silentLogger(): unknown {
  const logger = {
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error() {},
    fatal() {},
    child: () => logger,
  };
  return logger;
}

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/**
 * A real FTP server (ftp-srv) on 127.0.0.1, port 0, serving a temp folder: one login per
 * user, anonymous refused with `530 Login incorrect`, passive mode announced as 127.0.0.1
 * on ports from a free range. Its bunyan logging is replaced with a silent logger.
 */
export async function startFtpServer(options: TestFtpServerOptions): Promise<TestFtpServer> {
  const root = mkdtempSync(join(tmpdir(), 'pathwatch-ftp-'));
  for (const [path, content] of Object.entries(options.files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  const min = await closedPort();
  const pasvRange = { min, max: Math.min(min + PASV_PORTS, 65_535) };
  // ftp-srv installs SIGTERM/SIGINT/SIGQUIT handlers that exit the process; they are
  // removed again on close so test runs do not pile them up.
  const listenersBefore = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const server = new FtpSrv({
    url: `${options.tls && options.implicitTls ? 'ftps' : 'ftp'}://127.0.0.1:0`,
    pasv_url: '127.0.0.1',
    pasv_min: pasvRange.min,
    pasv_max: pasvRange.max,
    anonymous: false,
    greeting: 'pathwatch test FTP',
    tls: options.tls ? { key: options.tls.key, cert: options.tls.cert } : false,
    log: silentLogger(),
  });
  server.on('login', ({ username, password }, resolve, reject) => {
    if (options.users[username] !== undefined && options.users[username] === password) resolve({ root });
    else reject(new Error('Login incorrect'));
  });
  // A client that drops a connection mid-way (a probe timing out) is an event, not a crash.
  server.on('client-error', () => {});
  await server.listen();
  const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    port,
    root,
    pasvRange,
    close: async () => {
      await server.close();
      for (const signal of SIGNALS) {
        for (const listener of process.listeners(signal))
          if (!listenersBefore.get(signal)?.has(listener)) process.removeListener(signal, listener);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface ScriptedFtpServer {
  port: number;
  /** Commands received, in order (PASS arguments replaced with ***). */
  commands: string[];
  /** Resolves once every connection to it has been closed by the client. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A minimal FTP control-connection server for failures ftp-srv cannot be made to show:
 * it sends `greeting`, then answers each command line with `answer(command)`, or stays
 * silent when that returns undefined.
 */
export async function startScriptedFtpServer(
  greeting: string,
  answer: (command: string) => string | undefined,
): Promise<ScriptedFtpServer> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        commands.push(line.startsWith('PASS ') ? 'PASS ***' : line);
        const reply = answer(line);
        if (reply !== undefined) socket.write(`${reply}\r\n`);
      }
    });
    socket.write(`${greeting}\r\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    drained: async () => {
      await Promise.all([...sockets].map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
