import { type Command, InvalidArgumentError } from 'commander';
import { API_ROLES, type ApiRole, UPLOAD_ROLE } from '../../src/auth/api-role.ts';
import { createApiToken } from '../../src/auth/api-token.ts';

function roleArgument(value: string): ApiRole {
  if (!(API_ROLES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${API_ROLES.join(', ')}`);
  return value as ApiRole;
}

function nameArgument(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value))
    throw new InvalidArgumentError(
      'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit',
    );
  return value;
}

/**
 * `pathwatch token create`: a new API token, printed once, and the config entry that holds
 * only its hash. The token goes to stdout alone on its first line (for a pipe or a secret
 * store); the entry to paste follows.
 */
export function addTokenCommand(program: Command): void {
  const token = program.command('token').description('API tokens: make one for api.tokens');
  token
    .command('create')
    .description(
      'print a new random token, and the api.tokens entry (its SHA-256 hash and role) to add to the config',
    )
    .requiredOption('--name <who>', 'who holds it, for logs (wall-screen, on-call)', nameArgument)
    .requiredOption(
      '--role <role>',
      `what it may do: ${API_ROLES.join(', ')} (a worker only uploads its artifacts, see artifacts.deliverTo)`,
      roleArgument,
    )
    .action((options: { name: string; role: ApiRole }) => {
      const created = createApiToken();
      console.log(created.token);
      console.log('');
      console.log('# the token above is shown once; pathwatch keeps only its hash. Add to the config:');
      console.log('api:');
      console.log('  tokens:');
      console.log(`    - { name: ${options.name}, hash: "${created.hash}", role: ${options.role} }`);
      if (options.role === UPLOAD_ROLE) {
        console.log('# and on the worker, the token by reference (here from $PATHWATCH_UPLOAD_TOKEN):');
        console.log(
          '#   artifacts: { deliverTo: { url: "<the API\'s base URL>", token: "${env:PATHWATCH_UPLOAD_TOKEN}" } }',
        );
      }
    });
}
