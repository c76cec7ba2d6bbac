import { presentAccessToken } from '../presenters/tokens.js';
import { defineCommand } from './command.js';
import { withServices } from './context.js';
import { ExitCode, UsageError } from './failures.js';

/**
 * `outlink token` (DESIGN §8, issue 3 item 6): a valid access token and a newline on stdout,
 * nothing else, so that it works as `passwordeval` in mutt, msmtp or isync and as
 * `curl --oauth2-bearer "$(outlink token gmail)"`. Every failure goes to stderr with exit 1,
 * leaving stdout empty, so that a caller never sends an error text as a password.
 */
export const tokenCommand = defineCommand({
  path: ['token'],
  summary: 'cli.token.summary',
  synopsis: ['<link> [--account <account>]', '--connection <id>'],
  details: 'cli.token.details',
  positional: { name: '<link>', help: 'cli.links.argument', optional: true },
  options: {
    account: { type: 'string', value: '<account>', help: 'cli.token.options.account' },
    connection: { type: 'string', value: '<id>', help: 'cli.token.options.connection' },
    json: { type: 'boolean', help: 'cli.token.options.json' },
  },
  async run(ctx, { values, target }) {
    const { account, connection } = values;
    if (connection !== undefined && target !== '') {
      throw new UsageError('options_conflict', { options: '<link>, --connection' }, 'token');
    }
    if (connection !== undefined && account !== undefined) {
      throw new UsageError('options_conflict', { options: '--account, --connection' }, 'token');
    }
    if (connection === undefined && target === '') {
      throw new UsageError('missing_argument', { argument: '<link>' }, 'token');
    }
    const token = await withServices(ctx, async ({ links, connections, tokens }) => {
      const id =
        connection ?? (await connections.resolveForLink((await links.find(target)).id, account)).id;
      return tokens.getAccessToken(id);
    });
    if (values.json) {
      // The API's token shape (GET /api/v1/connections/:id/token).
      ctx.out(JSON.stringify(presentAccessToken(token), null, 2));
      return ExitCode.ok;
    }
    ctx.out(token.accessToken);
    return ExitCode.ok;
  },
});
