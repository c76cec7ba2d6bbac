import { type CommandGroup, defineCommand } from './command.js';
import { withServices } from './context.js';

const rotate = defineCommand({
  path: ['keys', 'rotate'],
  summary: 'cli.keys.rotate.summary',
  details: 'cli.keys.rotate.details',
  options: { json: { type: 'boolean', help: 'cli.options.json' } },
  async run(ctx, { values }) {
    const result = await withServices(ctx, ({ keys }) =>
      keys.rotate({ kind: 'cli' }, ({ done, total }) =>
        ctx.err(ctx.t('cli.keys.rotate.progress', { done, total })),
      ),
    );
    if (values.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return 0;
    }
    ctx.out(ctx.t('cli.keys.rotate.done', { keyId: result.keyId, count: result.reencrypted }));
    return 0;
  },
});

const retire = defineCommand({
  path: ['keys', 'retire'],
  summary: 'cli.keys.retire.summary',
  details: 'cli.keys.retire.details',
  positional: { name: '<keyId>', help: 'cli.keys.retire.argument' },
  options: { json: { type: 'boolean', help: 'cli.options.json' } },
  async run(ctx, { values, target }) {
    const result = await withServices(ctx, ({ keys }) => keys.retire({ kind: 'cli' }, target));
    if (values.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return 0;
    }
    ctx.out(
      ctx.t('cli.keys.retire.done', {
        keyId: result.keyId,
        remaining: result.remaining.join(', '),
      }),
    );
    return 0;
  },
});

/** `outlink keys …`: the master key (DESIGN §3, issue 2 item 5). */
export const keysGroup: CommandGroup = {
  name: 'keys',
  summary: 'cli.keys.summary',
  commands: [rotate, retire],
};
