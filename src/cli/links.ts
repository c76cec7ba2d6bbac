import { readFileSync } from 'node:fs';
import type { Actor } from '../domain/actor.js';
import type { Warning } from '../domain/link.js';
import { compileValidator } from '../domain/validation.js';
import { presentLinkChange, presentLinkRemoval } from '../presenters/links.js';
import { CreateLinkBody, type LinkView, UpdateLinkBody } from '../schemas/links.js';
import { authorizeCommand } from './authorize.js';
import {
  type CommandGroup,
  columns,
  defineCommand,
  type OptionSpecs,
  type OptionValues,
  table,
} from './command.js';
import { type CliContext, withServices } from './context.js';
import { CliError, UsageError, withFlagNames } from './failures.js';

const CLI_ACTOR: Actor = { kind: 'cli' };

const json = { type: 'boolean', help: 'cli.options.json' } as const;
const linkArgument = { name: '<link>', help: 'cli.links.argument' } as const;

/** Flags of `links create` and `links update`, one per field of the API body. */
const linkOptions = {
  name: { type: 'string', value: '<name>', help: 'cli.links.options.name' },
  description: { type: 'string', value: '<text>', help: 'cli.links.options.description' },
  provider: { type: 'string', value: '<provider>', help: 'cli.links.options.provider' },
  'client-id': { type: 'string', value: '<id>', help: 'cli.links.options.client_id' },
  'client-secret-stdin': { type: 'boolean', help: 'cli.links.options.client_secret_stdin' },
  'client-secret-file': {
    type: 'string',
    value: '<path>',
    help: 'cli.links.options.client_secret_file',
  },
  'client-secret': { type: 'string', value: '<secret>', help: 'cli.links.options.client_secret' },
  scope: { type: 'string', multiple: true, value: '<scope>', help: 'cli.links.options.scope' },
  'authorization-endpoint': {
    type: 'string',
    value: '<url>',
    help: 'cli.links.options.authorization_endpoint',
  },
  'token-endpoint': { type: 'string', value: '<url>', help: 'cli.links.options.token_endpoint' },
  issuer: { type: 'string', value: '<url>', help: 'cli.links.options.issuer' },
  tenant: { type: 'string', value: '<tenant>', help: 'cli.links.options.tenant' },
  cloud: { type: 'string', value: '<cloud>', help: 'cli.links.options.cloud' },
  'client-auth-method': {
    type: 'string',
    value: '<method>',
    help: 'cli.links.options.client_auth_method',
  },
  'client-secret-expires-at': {
    type: 'string',
    value: '<date-time>',
    help: 'cli.links.options.client_secret_expires_at',
  },
  json,
} as const satisfies OptionSpecs;

type LinkOptionValues = OptionValues<typeof linkOptions>;

/** Body fields set by a plain string flag. */
const STRING_FIELDS = {
  name: 'name',
  description: 'description',
  provider: 'provider',
  'client-id': 'clientId',
  'authorization-endpoint': 'authorizationEndpoint',
  'token-endpoint': 'tokenEndpoint',
  issuer: 'issuer',
  tenant: 'tenant',
  cloud: 'cloud',
  'client-auth-method': 'clientAuthMethod',
} as const satisfies Partial<Record<keyof LinkOptionValues, string>>;

/** API field → the flag that sets it, for error messages. */
const FIELD_FLAGS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(STRING_FIELDS).map(([flag, field]) => [field, `--${flag}`])),
  clientSecret: '--client-secret',
  scopes: '--scope',
  clientSecretExpiresAt: '--client-secret-expires-at',
};

const SECRET_SOURCES = ['client-secret', 'client-secret-file', 'client-secret-stdin'] as const;

const validateCreate = compileValidator(CreateLinkBody);
const validateUpdate = compileValidator(UpdateLinkBody);

const list = defineCommand({
  path: ['links', 'list'],
  summary: 'cli.links.list.summary',
  options: { json },
  async run(ctx, { values }) {
    const items = await withServices(ctx, async ({ links }) => {
      const all: LinkView[] = [];
      let cursor: string | undefined;
      do {
        const page = await links.list({ limit: 100, cursor });
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return all;
    });
    if (values.json) {
      ctx.out(JSON.stringify({ items }, null, 2));
      return 0;
    }
    if (items.length === 0) {
      ctx.out(ctx.t('cli.links.none'));
      return 0;
    }
    const header = ['name', 'provider', 'client_id', 'connections', 'id'].map((c) =>
      ctx.t(`cli.links.columns.${c}`),
    );
    ctx.out(
      table([
        header,
        ...items.map((l) => [l.name, l.provider, l.clientId, String(l.connections.length), l.id]),
      ]).join('\n'),
    );
    return 0;
  },
});

const show = defineCommand({
  path: ['links', 'show'],
  summary: 'cli.links.show.summary',
  positional: linkArgument,
  options: { json },
  async run(ctx, { values, target }) {
    const link = await withServices(ctx, ({ links }) => links.find(target));
    ctx.out(values.json ? JSON.stringify(link, null, 2) : describeLink(ctx, link));
    return 0;
  },
});

const create = defineCommand({
  path: ['links', 'create'],
  summary: 'cli.links.create.summary',
  synopsis:
    '--name <name> --provider <provider> --client-id <id> (--client-secret-stdin | --client-secret-file <path>) [options]',
  details: 'cli.links.create.details',
  options: linkOptions,
  async run(ctx, { values }) {
    try {
      const input = validateCreate(await linkBody(ctx, values, 'links create'));
      const result = await withServices(ctx, ({ links }) => links.create(CLI_ACTOR, input));
      printResult(ctx, 'cli.links.created', result, values.json);
      return 0;
    } catch (error) {
      throw withFlagNames(error, FIELD_FLAGS);
    }
  },
});

const update = defineCommand({
  path: ['links', 'update'],
  summary: 'cli.links.update.summary',
  details: 'cli.links.update.details',
  positional: linkArgument,
  options: linkOptions,
  async run(ctx, { values, target }) {
    try {
      const input = validateUpdate(await linkBody(ctx, values, 'links update'));
      const result = await withServices(ctx, async ({ links }) => {
        const { id } = await links.find(target);
        return links.update(CLI_ACTOR, id, input);
      });
      printResult(ctx, 'cli.links.updated', result, values.json);
      return 0;
    } catch (error) {
      throw withFlagNames(error, FIELD_FLAGS);
    }
  },
});

const remove = defineCommand({
  path: ['links', 'delete'],
  summary: 'cli.links.delete.summary',
  positional: linkArgument,
  options: {},
  async run(ctx, { target }) {
    const { link, removal } = await withServices(ctx, async ({ links }) => {
      const found = await links.find(target);
      return { link: found, removal: await links.remove(CLI_ACTOR, found.id) };
    });
    ctx.out(ctx.t('cli.links.deleted', { name: link.name, id: link.id }));
    // Issue 11: whether the grants were revoked at the provider, or stay alive there.
    ctx.out(presentLinkRemoval(ctx.locale, removal).revocation.message);
    return 0;
  },
});

/** `outlink links …` (DESIGN §8). */
export const linksGroup: CommandGroup = {
  name: 'links',
  summary: 'cli.links.summary',
  commands: [list, show, create, update, remove, authorizeCommand],
};

/** The API body from the flags that were given; the validator judges it as the API would. */
async function linkBody(
  ctx: CliContext,
  values: LinkOptionValues,
  command: string,
): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(STRING_FIELDS)) {
    const value = values[flag as keyof typeof STRING_FIELDS];
    if (value !== undefined) body[field] = value;
  }
  if (values.scope) body.scopes = [...values.scope];
  const expires = values['client-secret-expires-at'];
  if (expires !== undefined) body.clientSecretExpiresAt = expires === 'none' ? null : expires;
  const secret = await readClientSecret(ctx, values, command);
  if (secret !== undefined) body.clientSecret = secret;
  return body;
}

/**
 * The client secret from stdin, a file or the flag. Stdin and files keep it out of shell
 * history and `ps`; one trailing newline (from `echo` or an editor) is not part of it.
 */
async function readClientSecret(
  ctx: CliContext,
  values: LinkOptionValues,
  command: string,
): Promise<string | undefined> {
  const given = SECRET_SOURCES.filter((s) => values[s] !== undefined);
  if (given.length > 1) {
    throw new UsageError(
      'options_conflict',
      { options: given.map((s) => `--${s}`).join(', ') },
      command,
    );
  }
  const file = values['client-secret-file'];
  if (file !== undefined) {
    try {
      return stripNewline(readFileSync(file, 'utf8'));
    } catch (error) {
      const problem = (error as { code?: string }).code ?? String(error);
      throw new CliError('secret_file_unreadable', { file, problem }, error);
    }
  }
  if (values['client-secret-stdin']) {
    if (ctx.stdin.isTTY) ctx.err(ctx.t('cli.links.secret_prompt'));
    let text = '';
    for await (const chunk of ctx.stdin) text += chunk.toString();
    return stripNewline(text);
  }
  return values['client-secret'];
}

function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function printResult(
  ctx: CliContext,
  doneKey: string,
  result: { link: LinkView; warnings: Warning[] },
  asJson: boolean | undefined,
): void {
  const presented = presentLinkChange(ctx.locale, result);
  for (const w of presented.warnings ?? []) ctx.err(`warning ${w.code}: ${w.message}`);
  if (asJson) {
    ctx.out(JSON.stringify(presented, null, 2));
    return;
  }
  ctx.out(ctx.t(doneKey, { name: result.link.name, id: result.link.id }));
  ctx.out('');
  ctx.out(describeLink(ctx, result.link));
}

/** A link as labelled lines; the client secret only as set or not set. */
function describeLink(ctx: CliContext, link: LinkView): string {
  const none = ctx.t('cli.links.value_none');
  const rows: [string, string][] = [
    ['name', link.name],
    ['id', link.id],
    ['description', link.description || none],
    ['provider', link.provider],
    ['client_id', link.clientId],
    [
      'client_secret',
      ctx.t(link.clientSecretSet ? 'cli.links.secret_set' : 'cli.links.secret_unset'),
    ],
    ['client_secret_expires_at', link.clientSecretExpiresAt ?? none],
    ['scopes', link.scopes.join(' ')],
    ['authorization_endpoint', link.authorizationEndpoint],
    ['token_endpoint', link.tokenEndpoint],
    ['redirect_url', link.redirectUrl],
    ['issuer', link.issuer ?? none],
    ...(link.provider === 'microsoft'
      ? ([
          ['tenant', link.tenant ?? none],
          ['cloud', link.cloud ?? none],
        ] as [string, string][])
      : []),
    ['client_auth_method', link.clientAuthMethod],
    ['created_at', link.createdAt],
    ['updated_at', link.updatedAt],
  ];
  const lines = columns(
    rows.map(([key, value]) => [ctx.t(`cli.links.fields.${key}`), value]),
    0,
  );
  lines.push(ctx.t('cli.links.fields.connections'));
  if (link.connections.length === 0) lines.push(`  ${ctx.t('cli.links.no_connections')}`);
  const connections = link.connections.map((c) => [c.account, c.status, c.expiresAt ?? none, c.id]);
  if (connections.length > 0) lines.push(...table(connections).map((line) => `  ${line}`));
  return lines.join('\n');
}
