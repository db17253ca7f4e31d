import { once } from 'node:events';
import http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** An HTTP server on 127.0.0.1, port 0, with the given handler. */
export async function startHttpServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  const sockets = trackSockets(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server, sockets) };
}

/** Accepts connections and never answers: the "server hangs" case. */
export async function startSilentServer(): Promise<TestServer> {
  const server = createServer(() => {});
  const sockets = trackSockets(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, port, close: () => closeServer(server, sockets) };
}

/** A port on 127.0.0.1 with nothing listening: connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
