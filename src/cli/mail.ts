import type { Actor } from '../domain/actor.js';
import { presentTestResult, testMessageWords } from '../presenters/mail-servers.js';
import type { TestReport } from '../schemas/mail-servers.js';
import { type CommandGroup, defineCommand, table } from './command.js';
import { type CliContext, withServices } from './context.js';
import { ExitCode, UsageError } from './failures.js';
import { mailPollCommand } from './mail-poll.js';
import { mailSetCommand, mailShowCommand } from './mail-settings.js';
import { printable } from './terminal.js';

const CLI_ACTOR: Actor = { kind: 'cli' };

/** A plausible address (the API's schema checks it exactly). */
const ADDRESS = /^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/;

const test = defineCommand({
  path: ['mail', 'test'],
  summary: 'cli.mail.test.summary',
  details: 'cli.mail.test.details',
  positional: { name: '<server>', help: 'cli.mail.argument' },
  options: {
    to: { type: 'string', value: '<address>', help: 'cli.mail.test.options.to' },
    json: { type: 'boolean', help: 'cli.mail.test.options.json' },
  },
  async run(ctx, { values, target }) {
    if (values.to !== undefined && (!ADDRESS.test(values.to) || values.to.length > 320)) {
      throw new UsageError(
        'option_value_invalid',
        { option: '--to', value: values.to, expected: ctx.t('cli.mail.to_expected') },
        'mail test',
      );
    }
    const { name, report } = await withServices(ctx, async ({ mailServers }) => {
      const found = await mailServers.find(target);
      const { result } = await mailServers.test(
        CLI_ACTOR,
        found.id,
        values.to !== undefined ? { to: values.to } : {},
        testMessageWords(ctx.locale),
      );
      return { name: found.name, report: presentTestResult(ctx.locale, result) };
    });
    if (values.json) {
      ctx.out(JSON.stringify(report, null, 2));
    } else {
      printSteps(ctx, report);
      if (report.ok) ctx.out(ctx.t('cli.mail.passed', { name }));
    }
    if (report.ok || !report.error) return ExitCode.ok;
    const { error } = report;
    const step = report.steps.find((s) => s.name === error.step)?.label ?? error.step;
    if (!values.json) ctx.err(ctx.t('cli.mail.failed_at', { name, step }));
    ctx.err(`error ${error.code}: ${error.message}`);
    ctx.err(`remedy: ${error.remedy}`);
    if (error.serverResponse) {
      ctx.err(`${ctx.t('cli.mail.server_said')}: ${printable(error.serverResponse)}`);
    }
    if (error.challenge) {
      ctx.err(`${ctx.t('cli.mail.challenge')}: ${printable(JSON.stringify(error.challenge))}`);
    }
    return ExitCode.failed;
  },
});

/** One line per step: outcome, step name, and what happened (server words made printable). */
function printSteps(ctx: CliContext, report: TestReport): void {
  const rows = report.steps.map((s) => [
    s.ok ? ctx.t('cli.mail.step_ok') : ctx.t('cli.mail.step_failed'),
    s.label,
    printable(s.detail),
  ]);
  for (const line of table(rows)) ctx.out(line);
}

/**
 * `outlink mail …` (DESIGN §8): a server's settings (`mail-settings.ts`), its test, and a
 * run of the mail handler now (`mail-poll.ts`).
 */
export const mailGroup: CommandGroup = {
  name: 'mail',
  summary: 'cli.mail.summary',
  commands: [mailShowCommand, mailSetCommand, test, mailPollCommand],
};
