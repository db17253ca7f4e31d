import type { Command } from 'commander';
import { waitForStopSignal } from '../cli/wait-for-stop-signal.ts';

/** `pathwatch demo-shop`: the bundled shop the example config watches. */
export function addDemoShopCommand(program: Command): void {
  program
    .command('demo-shop')
    .description('serve the bundled demo shop that the example config monitors')
    .option('-p, --port <port>', 'port', (value) => Number(value), 4601)
    .option('--host <address>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const { startDemoShop } = await import('../../src/demo-shop/demo-shop.ts');
      const shop = await startDemoShop({ port: options.port, host: options.host });
      console.log(`demo shop listening on ${shop.url}`);
      await waitForStopSignal();
      await shop.close();
    });
}
