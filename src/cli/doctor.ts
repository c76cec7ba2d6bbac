import { presentDiagnosis } from '../presenters/diagnose.js';
import type { DiagnosisJson } from '../schemas/diagnose.js';
import { defineCommand } from './command.js';
import type { CliContext } from './context.js';
import { withServices } from './context.js';
import { ExitCode } from './failures.js';
import { printable } from './terminal.js';

/**
 * `outlink doctor [link]` (DESIGN §8, issue 13 item 1): diagnose one link, or every link,
 * with the same checks as `POST /api/v1/links/:id/diagnose`. Exit 1 when any check fails,
 * so that a cron job or a monitoring probe can run it; warnings alone exit 0.
 */
export const doctorCommand = defineCommand({
  path: ['doctor'],
  summary: 'cli.doctor.summary',
  synopsis: '[<link>] [--json]',
  details: 'cli.doctor.details',
  positional: { name: '<link>', help: 'cli.doctor.argument', optional: true },
  options: { json: { type: 'boolean', help: 'cli.doctor.options.json' } },
  async run(ctx, { values, target }) {
    const reports = await withServices(ctx, async ({ links, diagnose }) => {
      const ids = target !== '' ? [(await links.find(target)).id] : await allLinkIds(links.list);
      const out: DiagnosisJson[] = [];
      for (const id of ids) out.push(presentDiagnosis(ctx.locale, await diagnose.diagnose(id)));
      return out;
    });
    const failed = reports.some((r) => r.checks.some((c) => c.status === 'fail'));
    if (values.json) {
      ctx.out(JSON.stringify(target !== '' ? reports[0] : { items: reports }, null, 2));
    } else if (reports.length === 0) {
      ctx.out(ctx.t('cli.doctor.no_links'));
    } else {
      ctx.out(reports.map((r) => describe(ctx, r)).join('\n\n'));
    }
    return failed ? ExitCode.failed : ExitCode.ok;
  },
});

async function allLinkIds(
  list: (page: { limit: number; cursor?: string }) => Promise<{
    items: { id: string }[];
    nextCursor?: string;
  }>,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 100, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((l) => l.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

/** One link's checks, one line each, a remedy indented under every warning and failure. */
function describe(ctx: CliContext, report: DiagnosisJson): string {
  const count = (status: string) => report.checks.filter((c) => c.status === status).length;
  const lines = [
    ctx.t('diagnose.title', { name: printable(report.linkName) }),
    ...report.checks.flatMap((c) => {
      const mark = ctx.t(`diagnose.status.${c.status}`).toUpperCase();
      const line = `  [${mark}] ${c.id}${c.subject ? ` (${printable(c.subject)})` : ''}: ${printable(c.message)}`;
      return c.remedy && c.status !== 'pass'
        ? [line, `      ${ctx.t('cli.doctor.remedy', { remedy: printable(c.remedy) })}`]
        : [line];
    }),
    `  ${ctx.t('diagnose.summary', { pass: count('pass'), warn: count('warn'), fail: count('fail') })}`,
  ];
  return lines.join('\n');
}
