import { randomUUID } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import { EMPTY_ALERT_CONTEXT } from '../../src/alerts/alert-context.ts';
import type { AlertEvent } from '../../src/alerts/alert-event.ts';
import { EmailChannel } from '../../src/alerts/email-channel.ts';
import { type AlertLanguage, DEFAULT_LIST } from '../../src/config/alerting-schema.ts';
import { processSecretMasker } from '../../src/config/secret-masker.ts';
import { CliExit, EXIT_FAIL, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { exitWhenDone } from '../cli/exit-when-done.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';

function addressArgument(value: string): string {
  if (!/^[^@\s]+@[^@\s]+$/.test(value)) throw new InvalidArgumentError('expected an email address');
  return value;
}

/** A test alert: its own key each time, so two tests are two mails. */
function testEvent(list: string, language: AlertLanguage): AlertEvent {
  const id = randomUUID();
  const now = Date.now();
  return {
    key: `test.${id}`,
    kind: 'test',
    list,
    channel: 'email',
    language,
    checkId: 'pathwatch-test',
    checkName: 'Mail settings',
    itemKind: 'test',
    locations: [],
    at: now,
    start: now,
  };
}

/** `pathwatch alerts test`: one mail through the configured server, and what the server said. */
export function addAlertsCommand(program: Command): void {
  const alerts = program.command('alerts').description('alert mail: check the mail server settings');
  alerts
    .command('test')
    .description(
      "send one test mail through alerting.smtp and print the server's reply, or one line saying what failed (exit 0 sent, 1 not sent)",
    )
    .addOption(configOption())
    .option('--to <address>', 'send it here instead of the list', addressArgument)
    .option('--list <name>', `send it to this recipient list (default: ${DEFAULT_LIST}, i.e. alerting.to)`)
    .action(async (options: { config?: string; to?: string; list?: string }) => {
      exitWhenDone();
      const config = await loadConfigOrExit(options.config);
      const alerting = config.settings.alerting;
      if (!alerting)
        throw new CliExit(
          EXIT_USAGE,
          `pathwatch alerts test: ${config.file} has no alerting block; add alerting.smtp, from and to`,
        );
      const list = options.list ?? DEFAULT_LIST;
      const listTo = list === DEFAULT_LIST ? alerting.to : alerting.lists[list]?.to;
      const to = options.to ? [options.to] : listTo;
      if (!to || !alerting.smtp) {
        const known = [...(alerting.to ? [DEFAULT_LIST] : []), ...Object.keys(alerting.lists)];
        throw new CliExit(
          EXIT_USAGE,
          !alerting.smtp
            ? `pathwatch alerts test: ${config.file} has no alerting.smtp; add it (host, port) to send mail`
            : `pathwatch alerts test: recipient list "${list}" has no mail recipients (lists: ${known.join(', ') || 'none'}); give --to or --list`,
        );
      }
      const language = list === DEFAULT_LIST ? alerting.language : (alerting.lists[list]?.language ?? 'en');
      let channel: EmailChannel;
      try {
        channel = new EmailChannel({
          alerting,
          secrets: config.secrets,
          to: options.to ? [options.to] : undefined,
        });
      } catch (error) {
        // A secret reference that does not resolve (the password's variable unset).
        throw new CliExit(EXIT_FAIL, `pathwatch alerts test: ${(error as Error).message}`);
      }
      try {
        const receipt = await channel.send(testEvent(list, language), { ...EMPTY_ALERT_CONTEXT });
        console.log(
          processSecretMasker.mask(
            `sent to ${to.join(', ')} through ${channel.server}; the server answered: ${receipt.response}`,
          ),
        );
      } catch (error) {
        throw new CliExit(EXIT_FAIL, `pathwatch alerts test: ${(error as Error).message}`);
      } finally {
        await channel.close();
      }
    });
}
