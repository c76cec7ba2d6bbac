import type { Actor } from '../domain/actor.js';
import { isOutlinkError } from '../domain/errors.js';
import { presentConnection, presentStoredError } from '../presenters/connections.js';
import { presentReauthorization } from '../presenters/reauthorizations.js';
import type { ConnectionView } from '../services/connections.js';
import { type CommandGroup, columns, defineCommand, table } from './command.js';
import { type CliContext, withServices } from './context.js';
import { ExitCode, printFailure } from './failures.js';
import { printable } from './terminal.js';
import { bothTimes, relativeTime } from './time.js';

const CLI_ACTOR: Actor = { kind: 'cli' };

const json = { type: 'boolean', help: 'cli.options.json' } as const;
/** Refresh failures the token service also stores as the connection's last error. */
const RECORDED_FAILURES: ReadonlySet<string> = new Set([
  'reauthorization_required',
  'provider_unavailable',
]);

const idArgument = { name: '<id>', help: 'cli.connections.argument' } as const;

const list = defineCommand({
  path: ['connections', 'list'],
  summary: 'cli.connections.list.summary',
  positional: { name: '<link>', help: 'cli.links.argument' },
  options: { json },
  async run(ctx, { values, target }) {
    const { link, items, now } = await withServices(ctx, async (services) => {
      const link = await services.links.find(target);
      const items = await services.connections.list(link.id);
      return { link, items, now: services.clock.now() };
    });
    if (values.json) {
      ctx.out(
        JSON.stringify({ items: items.map((c) => presentConnection(ctx.locale, c)) }, null, 2),
      );
      return ExitCode.ok;
    }
    if (items.length === 0) {
      ctx.out(ctx.t('cli.connections.none', { link: link.name }));
      return ExitCode.ok;
    }
    const none = ctx.t('cli.links.value_none');
    const header = ['account', 'status', 'expires', 'last_refresh', 'last_error', 'id'].map((c) =>
      ctx.t(`cli.connections.columns.${c}`),
    );
    const rows = items.map((c) => [
      c.account,
      c.status,
      bothTimes(ctx, c.expiresAt, now),
      c.lastRefreshedAt ? relativeTime(ctx, new Date(c.lastRefreshedAt), now) : none,
      c.lastError?.id ?? none,
      c.id,
    ]);
    ctx.out(table([header, ...rows]).join('\n'));
    return ExitCode.ok;
  },
});

const show = defineCommand({
  path: ['connections', 'show'],
  summary: 'cli.connections.show.summary',
  positional: idArgument,
  options: { json },
  async run(ctx, { values, target }) {
    const { connection, linkName, now } = await withServices(ctx, async (services) => {
      const connection = await services.connections.get(target);
      const { name } = await services.links.find(connection.linkId);
      return { connection, linkName: name, now: services.clock.now() };
    });
    ctx.out(
      values.json
        ? JSON.stringify(presentConnection(ctx.locale, connection), null, 2)
        : describeConnection(ctx, connection, linkName, now),
    );
    return ExitCode.ok;
  },
});

const refresh = defineCommand({
  path: ['connections', 'refresh'],
  summary: 'cli.connections.refresh.summary',
  details: 'cli.connections.refresh.details',
  positional: idArgument,
  options: { json },
  async run(ctx, { values, target }) {
    const { connection, now } = await withServices(ctx, async (services) => {
      const refreshed = await services.connections
        .refresh(CLI_ACTOR, target)
        .catch(async (error: unknown) => {
          // A failed refresh is recorded on the connection with the provider's words; those
          // say more than "re-authorize", so they are what the user sees.
          if (!isOutlinkError(error) || !RECORDED_FAILURES.has(error.code)) throw error;
          const failed = await services.connections.get(target);
          if (!failed.lastError) throw error;
          return failed;
        });
      return { connection: refreshed, now: services.clock.now() };
    });
    if (values.json) ctx.out(JSON.stringify(presentConnection(ctx.locale, connection), null, 2));
    if (connection.status !== 'valid' && connection.lastError) {
      printFailure(ctx, presentStoredError(ctx.locale, connection.lastError));
      return ExitCode.failed;
    }
    if (!values.json) {
      ctx.out(
        ctx.t('cli.connections.refreshed', {
          account: connection.account,
          expires: bothTimes(ctx, connection.expiresAt, now),
        }),
      );
    }
    return ExitCode.ok;
  },
});

const remove = defineCommand({
  path: ['connections', 'delete'],
  summary: 'cli.connections.delete.summary',
  details: 'cli.connections.delete.details',
  positional: idArgument,
  options: { json },
  async run(ctx, { values, target }) {
    const connection = await withServices(ctx, async ({ connections }) => {
      const found = await connections.get(target);
      await connections.remove(CLI_ACTOR, found.id);
      return found;
    });
    // --json: the connection as it was, so that a script knows which account it removed.
    ctx.out(
      values.json
        ? JSON.stringify(presentConnection(ctx.locale, connection), null, 2)
        : ctx.t('cli.connections.deleted', { account: connection.account, id: connection.id }),
    );
    return ExitCode.ok;
  },
});

const reauthorize = defineCommand({
  path: ['connections', 'reauthorize'],
  summary: 'cli.connections.reauthorize.summary',
  details: 'cli.connections.reauthorize.details',
  positional: idArgument,
  options: {
    email: {
      type: 'string',
      value: '<mail server>',
      help: 'cli.connections.reauthorize.options.email',
    },
    to: { type: 'string', value: '<address>', help: 'cli.connections.reauthorize.options.to' },
    hours: { type: 'string', value: '<hours>', help: 'cli.connections.reauthorize.options.hours' },
    revoke: { type: 'boolean', help: 'cli.connections.reauthorize.options.revoke' },
    json: { type: 'boolean', help: 'cli.connections.reauthorize.options.json' },
  },
  async run(ctx, { values, target }) {
    if (values.revoke) {
      const { connection, count } = await withServices(ctx, async (services) => {
        const connection = await services.connections.get(target);
        return {
          connection,
          count: await services.reauthorizations.revoke(CLI_ACTOR, connection.id),
        };
      });
      ctx.out(
        values.json
          ? JSON.stringify({ revoked: count }, null, 2)
          : ctx.t('cli.connections.reauthorize.revoked', {
              account: connection.account,
              count,
            }),
      );
      return ExitCode.ok;
    }
    const { connection, created, now } = await withServices(ctx, async (services) => {
      const connection = await services.connections.get(target);
      const created = await services.reauthorizations.create(CLI_ACTOR, connection.id, {
        ...(values.hours !== undefined ? { expiresInHours: Number(values.hours) } : {}),
        ...(values.email
          ? {
              email: {
                mailServer: values.email,
                ...(values.to ? { to: values.to } : {}),
                locale: ctx.locale,
              },
            }
          : {}),
      });
      return { connection, created, now: services.clock.now() };
    });
    if (values.json) {
      ctx.out(
        JSON.stringify(
          { ...presentReauthorization(created.invitation), url: created.url },
          null,
          2,
        ),
      );
      return ExitCode.ok;
    }
    ctx.out(
      ctx.t('cli.connections.reauthorize.created', {
        account: connection.account,
        expires: bothTimes(ctx, created.invitation.expiresAt, now),
      }),
    );
    ctx.out(created.url);
    if (created.invitation.emailedTo) {
      ctx.out(ctx.t('cli.connections.reauthorize.emailed', { to: created.invitation.emailedTo }));
    }
    return ExitCode.ok;
  },
});

/** `outlink connections …` (DESIGN §8): one connection per authorized account of a link. */
export const connectionsGroup: CommandGroup = {
  name: 'connections',
  summary: 'cli.connections.summary',
  commands: [list, show, refresh, remove, reauthorize],
};

/** A connection as labelled lines, its last failure with cause, remedy and provider's words. */
function describeConnection(
  ctx: CliContext,
  c: ConnectionView,
  linkName: string,
  now: Date,
): string {
  const none = ctx.t('cli.links.value_none');
  const rows: [string, string][] = [
    ['account', c.account],
    ['id', c.id],
    ['link', `${linkName} (${c.linkId})`],
    ['status', c.status],
    ['expires', bothTimes(ctx, c.expiresAt, now)],
    ['scopes', c.scopes.join(' ') || none],
    ['last_refresh', bothTimes(ctx, c.lastRefreshedAt, now)],
    ['created_at', c.createdAt],
  ];
  if (!c.lastError) {
    rows.push(['last_error', none]);
  } else {
    const error = presentStoredError(ctx.locale, c.lastError);
    rows.push(
      ['last_error', `${error.code} (${bothTimes(ctx, error.at, now)})`],
      ['cause', error.message],
      ['remedy', error.remedy],
    );
    if (error.providerError) {
      const said = [error.providerError, error.providerDescription].filter(Boolean).join(': ');
      rows.push(['provider_said', printable(said)]);
    }
  }
  return columns(
    rows.map(([key, value]) => [ctx.t(`cli.connections.fields.${key}`), value]),
    0,
  ).join('\n');
}
