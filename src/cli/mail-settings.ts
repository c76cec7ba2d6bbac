import type { Actor } from '../domain/actor.js';
import { isOutlinkError, OutlinkError } from '../domain/errors.js';
import { compileValidator } from '../domain/validation.js';
import { presentMailServer } from '../presenters/mail-servers.js';
import { presentWarnings } from '../presenters/warnings.js';
import { type MailServerView, UpdateMailServerBody } from '../schemas/mail-servers.js';
import type { MailServerService } from '../services/mail-servers.js';
import { columns, defineCommand, type OptionSpecs, type OptionValues } from './command.js';
import { type CliContext, withServices } from './context.js';
import { ExitCode, UsageError, withFlagNames } from './failures.js';

/**
 * `outlink mail show` and `outlink mail set`: a mail server's settings, the mail handler's
 * among them (issue 10 item 1), through the same service as the API and the dialog.
 */

const CLI_ACTOR: Actor = { kind: 'cli' };

const json = { type: 'boolean', help: 'cli.options.json' } as const;
const serverArgument = { name: '<server>', help: 'cli.mail.argument' } as const;
/** The word that clears a setting that may be cleared. */
const NONE = 'none';
const MIB = 1024 * 1024;

/** Flags of `mail set`, one per field of the API body it can change. */
const setOptions = {
  handler: { type: 'string', value: 'on|off', help: 'cli.mail.set.options.handler' },
  prefix: { type: 'string', value: '<prefix>', help: 'cli.mail.set.options.prefix' },
  'default-reporter': {
    type: 'string',
    value: '<address>|none',
    help: 'cli.mail.set.options.default_reporter',
  },
  'max-size': { type: 'string', value: '<bytes>', help: 'cli.mail.set.options.max_size' },
  'acknowledge-with': {
    type: 'string',
    value: '<server>|none',
    help: 'cli.mail.set.options.acknowledge_with',
  },
  'error-folder': {
    type: 'string',
    value: '<folder>|none',
    help: 'cli.mail.set.options.error_folder',
  },
  folder: { type: 'string', value: '<folder>', help: 'cli.mail.set.options.folder' },
  'poll-interval': {
    type: 'string',
    value: '<seconds>',
    help: 'cli.mail.set.options.poll_interval',
  },
  'processed-action': {
    type: 'string',
    value: 'seen|move|delete',
    help: 'cli.mail.set.options.processed_action',
  },
  'processed-folder': {
    type: 'string',
    value: '<folder>',
    help: 'cli.mail.set.options.processed_folder',
  },
  json,
} as const satisfies OptionSpecs;

type SetValues = OptionValues<typeof setOptions>;

/** API field → the flag that sets it, for error messages. */
const FIELD_FLAGS: Readonly<Record<string, string>> = {
  handlerEnabled: '--handler',
  issueKeyPrefix: '--prefix',
  defaultReporter: '--default-reporter',
  maxMessageBytes: '--max-size',
  acknowledgeWith: '--acknowledge-with',
  errorFolder: '--error-folder',
  folder: '--folder',
  pollIntervalSeconds: '--poll-interval',
  processedAction: '--processed-action',
  processedFolder: '--processed-folder',
};

const validateUpdate = compileValidator(UpdateMailServerBody);

export const mailShowCommand = defineCommand({
  path: ['mail', 'show'],
  summary: 'cli.mail.show.summary',
  positional: serverArgument,
  options: { json },
  async run(ctx, { values, target }) {
    const server = await withServices(ctx, async ({ mailServers }) =>
      presentMailServer(await mailServers.find(target)),
    );
    ctx.out(values.json ? JSON.stringify(server, null, 2) : describeMailServer(ctx, server));
    return ExitCode.ok;
  },
});

export const mailSetCommand = defineCommand({
  path: ['mail', 'set'],
  summary: 'cli.mail.set.summary',
  details: 'cli.mail.set.details',
  positional: serverArgument,
  options: setOptions,
  async run(ctx, { values, target }) {
    const command = 'mail set';
    const given = Object.keys(values).filter((flag) => flag !== 'json');
    if (given.length === 0) throw new UsageError('nothing_to_change', {}, command);
    try {
      const body = setBody(ctx, values, command);
      const { mailServer, warnings } = await withServices(ctx, async ({ mailServers }) => {
        const { id } = await mailServers.find(target);
        const acknowledge = values['acknowledge-with'];
        if (acknowledge !== undefined && acknowledge !== NONE) {
          body.acknowledgeWith = await serverId(mailServers, acknowledge);
        }
        return mailServers.update(CLI_ACTOR, id, validateUpdate(body));
      });
      const server = presentMailServer(mailServer);
      const presented = presentWarnings(ctx.locale, warnings);
      for (const w of presented) ctx.err(`warning ${w.code}: ${w.message}`);
      if (values.json) {
        ctx.out(JSON.stringify({ ...server, warnings: presented }, null, 2));
        return ExitCode.ok;
      }
      ctx.out(ctx.t('cli.mail.updated', { name: server.name, id: server.id }));
      ctx.out('');
      ctx.out(describeMailServer(ctx, server));
      return ExitCode.ok;
    } catch (error) {
      throw withFlagNames(error, FIELD_FLAGS);
    }
  },
});

/**
 * The API body from the flags that were given, before anything is read; the validator then
 * judges it as the API would. `--acknowledge-with` names a server by name or id: it is
 * looked up with the database open (`serverId`), only `none` is settled here.
 */
function setBody(ctx: CliContext, values: SetValues, command: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const clearable = (value: string) => (value === NONE ? null : value);
  if (values.handler !== undefined) {
    if (values.handler !== 'on' && values.handler !== 'off') {
      throw invalid(ctx, '--handler', values.handler, 'cli.mail.expected.on_off', command);
    }
    body.handlerEnabled = values.handler === 'on';
  }
  if (values.prefix !== undefined) body.issueKeyPrefix = values.prefix;
  const reporter = values['default-reporter'];
  if (reporter !== undefined) body.defaultReporter = clearable(reporter);
  const size = values['max-size'];
  if (size !== undefined) body.maxMessageBytes = whole(ctx, '--max-size', size, command);
  const interval = values['poll-interval'];
  if (interval !== undefined) {
    body.pollIntervalSeconds = whole(ctx, '--poll-interval', interval, command);
  }
  const errorFolder = values['error-folder'];
  if (errorFolder !== undefined) body.errorFolder = clearable(errorFolder);
  if (values.folder !== undefined) body.folder = values.folder;
  const action = values['processed-action'];
  if (action !== undefined) body.processedAction = action;
  const processedFolder = values['processed-folder'];
  if (processedFolder !== undefined) body.processedFolder = clearable(processedFolder);
  if (values['acknowledge-with'] === NONE) body.acknowledgeWith = null;
  return body;
}

/** The id of the mail server named (by name or id) as the one that acknowledges. */
async function serverId(mailServers: MailServerService, nameOrId: string): Promise<string> {
  try {
    return (await mailServers.find(nameOrId)).id;
  } catch (error) {
    if (!isOutlinkError(error) || error.code !== 'mail_server_not_found') throw error;
    throw new OutlinkError(
      'field_invalid',
      { field: 'acknowledgeWith', problem: 'there is no mail server with this name or id' },
      { cause: error, details: { field: 'acknowledgeWith' } },
    );
  }
}

/** A whole number as typed (digits only); the API's bounds are the validator's to check. */
function whole(ctx: CliContext, flag: string, value: string, command: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw invalid(ctx, flag, value, 'cli.mail.expected.whole_number', command);
  }
  return Number(value);
}

function invalid(
  ctx: CliContext,
  option: string,
  value: string,
  expected: string,
  command: string,
): UsageError {
  return new UsageError(
    'option_value_invalid',
    { option, value, expected: ctx.t(expected) },
    command,
  );
}

/** A mail server as labelled lines: its connection, then what applies to its protocol. */
export function describeMailServer(ctx: CliContext, s: MailServerView): string {
  const none = ctx.t('cli.links.value_none');
  const auth = s.authentication;
  const rows: [string, string][] = [
    ['name', s.name],
    ['id', s.id],
    ['protocol', s.protocol],
    ['server', `${s.host}:${s.port}`],
    ['security', s.security],
    ['username', s.username],
    [
      'authentication',
      auth.method === 'oauth2'
        ? ctx.t('cli.mail.values.oauth2', { link: auth.linkName, account: auth.account })
        : ctx.t(
            auth.passwordSet ? 'cli.mail.values.password_set' : 'cli.mail.values.password_unset',
          ),
    ],
  ];
  if (auth.method === 'oauth2') {
    rows.push(['sasl_mechanism', s.saslMechanism ?? ctx.t('cli.mail.values.automatic')]);
  }
  if (s.protocol !== 'smtp') {
    if (s.folder !== null) rows.push(['folder', s.folder]);
    rows.push(
      ['poll_interval', ctx.t('cli.mail.values.seconds', { seconds: s.pollIntervalSeconds ?? 0 })],
      [
        'processed_action',
        s.processedAction === 'move'
          ? ctx.t('cli.mail.values.move_to', { folder: s.processedFolder ?? none })
          : (s.processedAction ?? none),
      ],
      ['handler', ctx.t(s.handlerEnabled ? 'cli.mail.values.on' : 'cli.mail.values.off')],
      ['issue_key_prefix', ctx.t('cli.mail.values.prefix', { prefix: s.issueKeyPrefix ?? '' })],
      ['default_reporter', s.defaultReporter ?? none],
      [
        'max_size',
        ctx.t('cli.mail.values.bytes', {
          bytes: s.maxMessageBytes ?? 0,
          mib: Math.round(((s.maxMessageBytes ?? 0) / MIB) * 100) / 100,
        }),
      ],
      [
        'acknowledge_with',
        s.acknowledgeWith
          ? `${s.acknowledgeWithName ?? none} (${s.acknowledgeWith})`
          : ctx.t('cli.mail.values.no_acknowledgement'),
      ],
    );
    if (s.protocol === 'imap') {
      rows.push(['error_folder', s.errorFolder ?? ctx.t('cli.mail.values.no_error_folder')]);
    }
  }
  rows.push(['created_at', s.createdAt], ['updated_at', s.updatedAt]);
  return columns(
    rows.map(([key, value]) => [ctx.t(`cli.mail.fields.${key}`), value]),
    0,
  ).join('\n');
}
