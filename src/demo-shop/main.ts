/**
 * Runs the demo shop on its own: `tsx src/demo-shop/main.ts [--port 4601] [--host 127.0.0.1]`.
 * The port also comes from DEMO_SHOP_PORT; DEMO_SHOP_ADMIN_TOKEN protects /admin/*.
 */
import { parseArgs } from 'node:util';
import { startDemoShop } from './demo-shop.ts';

const DEFAULT_PORT = 4601;

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) {
    throw new Error(`${source}: must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
  });
  const port =
    values.port !== undefined
      ? parsePort(values.port, '--port')
      : process.env.DEMO_SHOP_PORT
        ? parsePort(process.env.DEMO_SHOP_PORT, 'DEMO_SHOP_PORT')
        : DEFAULT_PORT;
  const adminToken = process.env.DEMO_SHOP_ADMIN_TOKEN || undefined;
  const shop = await startDemoShop({ port, host: values.host ?? '127.0.0.1', adminToken });
  console.log(`demo shop listening on ${shop.url}`);

  const stop = () => {
    // Exits by itself once the server and its sockets are closed: nothing else holds the loop.
    void shop.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`demo shop: ${(error as Error).message}`);
  process.exitCode = 1;
});
