import type { Actor } from '../domain/actor.js';
import type { RunProgress } from '../handler/run.js';
import { defineCommand } from './command.js';
import { type CliContext, withServices } from './context.js';
import { ExitCode } from './failures.js';

const CLI_ACTOR: Actor = { kind: 'cli' };
const BAR_WIDTH = 24;

/**
 * `outlink mail poll <server>`: runs the mail handler now (DESIGN §8), as `POST
 * /api/v1/mail-servers/:id/poll` does. Progress goes to stderr: a bar redrawn in place on a
 * terminal, a plain line every tenth of the way otherwise (logs, CI). The result goes to
 * stdout, as words or `--json`. Exit 1 when a message failed.
 */
export const mailPollCommand = defineCommand({
  path: ['mail', 'poll'],
  summary: 'cli.mail.poll.summary',
  details: 'cli.mail.poll.details',
  positional: { name: '<server>', help: 'cli.mail.argument' },
  options: { json: { type: 'boolean', help: 'cli.options.json' } },
  async run(ctx, { values, target }) {
    const progress = progressReporter(ctx);
    const counts = await withServices(ctx, ({ mailHandler }) =>
      mailHandler.poll(CLI_ACTOR, target, { onProgress: progress.update }),
    );
    progress.done();
    if (values.json) ctx.out(JSON.stringify(counts, null, 2));
    else ctx.out(ctx.t('cli.mail.poll.result', { ...counts }));
    return counts.failed > 0 ? ExitCode.failed : ExitCode.ok;
  },
});

function progressReporter(ctx: CliContext): {
  update(progress: RunProgress): void;
  done(): void;
} {
  let lastTenth = -1;
  let drawn = false;
  return {
    update({ done, total, counts }) {
      if (total === 0) return;
      const words = ctx.t('cli.mail.poll.progress', { done, total, ...counts });
      if (ctx.terminal) {
        const filled = Math.round((done / total) * BAR_WIDTH);
        ctx.status(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${words}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth && (tenth > lastTenth || done === total)) {
        lastTenth = tenth;
        ctx.err(words);
      }
    },
    done() {
      if (drawn) ctx.err('');
    },
  };
}
