import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import Fastify from 'fastify';
import { loadLinkKey } from '../../src/api/link-key.ts';
import { traceViewerRoutes } from '../../src/api/routes/trace-viewer-routes.ts';
import { runEvidenceLinks } from '../../src/api/run-links.ts';
import { CliExit, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { waitForStopSignal } from '../cli/wait-for-stop-signal.ts';

/** Serves Playwright's trace viewer and one trace.zip on loopback until Ctrl-C. */
async function serveTraceFile(file: string, port: number): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(traceViewerRoutes);
  app.get('/trace.zip', (_request, reply) =>
    reply.header('content-type', 'application/zip').send(createReadStream(file)),
  );
  // localhost, not 127.0.0.1: the viewer's service worker needs a secure context.
  const address = await app.listen({ host: '127.0.0.1', port });
  const url = new URL(address);
  console.log(`http://localhost:${url.port}/trace/?trace=/trace.zip`);
  console.error('pathwatch trace: open the address above in a browser on this host; Ctrl-C stops');
  await waitForStopSignal();
  await app.close();
}

/**
 * `pathwatch trace <run-id | trace.zip>`: a run's trace in Playwright's own viewer. For a
 * file, the viewer is served here on loopback; for a run id, the address of the API's viewer
 * on that run's trace, through a signed link that opens it without a token until it expires.
 */
export function addTraceCommand(program: Command): void {
  program
    .command('trace')
    .description(
      "open a run's trace in Playwright's trace viewer: a trace.zip here, or a run id through the API",
    )
    .argument(
      '<run-id|trace.zip>',
      'a run id (prints a signed viewer link on the API) or a trace.zip file (served here)',
    )
    .addOption(configOption())
    .option('-p, --port <port>', 'port for a trace.zip file (default: any free one)', (value) => {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new CliExit(EXIT_USAGE, `pathwatch trace: --port ${value}: expected 0 to 65535`);
      return port;
    })
    .action(async (target: string, options: { config?: string; port?: number }) => {
      const file = await stat(target).catch(() => undefined);
      if (file?.isFile()) return serveTraceFile(target, options.port ?? 0);
      if (target.endsWith('.zip') || target.includes('/'))
        throw new CliExit(EXIT_USAGE, `pathwatch trace: ${target}: no such file`);
      if (!/^[a-z0-9]{1,64}(-\d+)?$/.test(target))
        throw new CliExit(
          EXIT_USAGE,
          `pathwatch trace: "${target}" is neither a trace.zip file nor a run id`,
        );
      const config = await loadConfigOrExit(options.config);
      const { api } = config.settings;
      const base = api.publicUrl ?? `http://${api.host === '0.0.0.0' ? 'localhost' : api.host}:${api.port}`;
      const links = runEvidenceLinks(base, target, await loadLinkKey(config), api.linkTtl);
      console.log(links.traceViewer);
    });
}
