import { openStore } from '../store/db.js';
import { defineCommand } from './command.js';
import { loadCliConfig } from './context.js';

/** `outlink migrate`: applies pending migrations and says which. */
export const migrateCommand = defineCommand({
  path: ['migrate'],
  summary: 'cli.migrate.summary',
  details: 'cli.migrate.details',
  options: { json: { type: 'boolean', help: 'cli.options.json' } },
  async run(ctx, { values }) {
    const store = openStore(loadCliConfig(ctx).database);
    let applied: string[];
    try {
      applied = await store.migrate();
    } finally {
      await store.close();
    }
    if (values.json) {
      ctx.out(JSON.stringify({ applied }, null, 2));
      return 0;
    }
    if (applied.length === 0) ctx.out(ctx.t('cli.migrate.up_to_date'));
    for (const name of applied) ctx.out(ctx.t('cli.migrate.applied', { name }));
    return 0;
  },
});
