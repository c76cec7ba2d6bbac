import type { Actor } from '../domain/actor.js';
import { compileValidator } from '../domain/validation.js';
import { CreateApiTokenBody } from '../schemas/api-tokens.js';
import { type CommandGroup, defineCommand } from './command.js';
import { withServices } from './context.js';
import { withFlagNames } from './failures.js';

const CLI_ACTOR: Actor = { kind: 'cli' };

const FIELD_FLAGS: Readonly<Record<string, string>> = {
  name: '--name',
  scopes: '--scope',
  linkIds: '--link',
  connectionIds: '--connection',
};

const validateCreate = compileValidator(CreateApiTokenBody);

const create = defineCommand({
  path: ['api-tokens', 'create'],
  summary: 'cli.api_tokens.create.summary',
  synopsis:
    '--name <name> [--scope admin|token:read|metrics:read] [--link <link>]... [--connection <id>]...',
  details: 'cli.api_tokens.create.details',
  options: {
    name: { type: 'string', value: '<name>', help: 'cli.api_tokens.options.name' },
    scope: {
      type: 'string',
      multiple: true,
      value: 'admin|token:read|metrics:read',
      help: 'cli.api_tokens.options.scope',
    },
    link: { type: 'string', multiple: true, value: '<link>', help: 'cli.api_tokens.options.link' },
    connection: {
      type: 'string',
      multiple: true,
      value: '<id>',
      help: 'cli.api_tokens.options.connection',
    },
  },
  async run(ctx, { values }) {
    const restricted = values.link !== undefined || values.connection !== undefined;
    const body = {
      ...(values.name !== undefined ? { name: values.name } : {}),
      // A token limited to some links or connections can only read their tokens.
      ...(values.scope
        ? { scopes: [...values.scope] }
        : restricted
          ? { scopes: ['token:read'] }
          : {}),
      ...(values.connection ? { connectionIds: [...values.connection] } : {}),
    };
    try {
      validateCreate(body);
      const token = await withServices(ctx, async ({ apiTokens, links }) => {
        // Links may be given by name; the service takes ids.
        const linkIds = values.link
          ? await Promise.all(values.link.map(async (ref) => (await links.find(ref)).id))
          : undefined;
        return apiTokens.create(
          CLI_ACTOR,
          validateCreate({ ...body, ...(linkIds ? { linkIds } : {}) }),
        );
      });
      // The token alone, so that `TOKEN=$(outlink api-tokens create --name x)` works.
      ctx.out(token.token);
      return 0;
    } catch (error) {
      throw withFlagNames(error, FIELD_FLAGS);
    }
  },
});

/** `outlink api-tokens …` (DESIGN §8). */
export const apiTokensGroup: CommandGroup = {
  name: 'api-tokens',
  summary: 'cli.api_tokens.summary',
  commands: [create],
};
