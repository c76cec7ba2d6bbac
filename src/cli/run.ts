import { apiTokensGroup } from './api-tokens.js';
import {
  type Command,
  type CommandGroup,
  columns,
  commandLabel,
  renderCommandHelp,
  renderGroupHelp,
} from './command.js';
import { connectionsGroup } from './connections.js';
import { type CliContext, type CliHost, type CliIo, createContext } from './context.js';
import { doctorCommand } from './doctor.js';
import { ExitCode, reportError, UsageError } from './failures.js';
import { keysGroup } from './keys.js';
import { linksGroup } from './links.js';
import { mailGroup } from './mail.js';
import { migrateCommand } from './migrate.js';
import { serveCommand, workerCommand } from './serve.js';
import { tokenCommand } from './token.js';

const COMMANDS: readonly Command[] = [
  serveCommand,
  workerCommand,
  migrateCommand,
  tokenCommand,
  doctorCommand,
];
const GROUPS: readonly CommandGroup[] = [
  linksGroup,
  connectionsGroup,
  keysGroup,
  apiTokensGroup,
  mailGroup,
];

/**
 * Runs one command line and returns the exit code: 0 done, 1 failed, 2 usage error.
 * `serve` returns once listening; its signal handlers end the process. The host is what
 * the composition root lends the commands (`createCliHost`).
 */
export async function runCli(argv: readonly string[], io: CliIo, host: CliHost): Promise<number> {
  const ctx = createContext(io, host);
  try {
    return await dispatch(ctx, argv);
  } catch (error) {
    return reportError(ctx, error);
  }
}

async function dispatch(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    ctx.err(renderTopHelp(ctx));
    return ExitCode.usage;
  }
  if (isHelpFlag(first)) {
    ctx.out(renderTopHelp(ctx));
    return ExitCode.ok;
  }
  if (first === 'help') return help(ctx, rest);
  if (first.startsWith('-')) throw new UsageError('unknown_option', { option: first }, '');
  const command = COMMANDS.find((c) => c.path[0] === first);
  if (command) return command.execute(ctx, rest);
  const group = GROUPS.find((g) => g.name === first);
  if (!group) throw new UsageError('unknown_command', { command: first }, '');
  const [word, ...args] = rest;
  if (word === undefined)
    throw new UsageError('missing_command', { group: group.name }, group.name);
  if (isHelpFlag(word)) {
    ctx.out(renderGroupHelp(ctx, group));
    return ExitCode.ok;
  }
  const sub = group.commands.find((c) => c.path[1] === word);
  if (!sub) {
    throw new UsageError('unknown_command', { command: `${group.name} ${word}` }, group.name);
  }
  return sub.execute(ctx, args);
}

/** `outlink help [command…]`: the same text as `--help`. */
function help(ctx: CliContext, words: readonly string[]): number {
  if (words.length === 0) {
    ctx.out(renderTopHelp(ctx));
    return ExitCode.ok;
  }
  const command = [...COMMANDS, ...GROUPS.flatMap((g) => g.commands)].find(
    (c) => c.path.join(' ') === words.join(' '),
  );
  if (command) {
    ctx.out(renderCommandHelp(ctx, command));
    return ExitCode.ok;
  }
  const group = words.length === 1 ? GROUPS.find((g) => g.name === words[0]) : undefined;
  if (group) {
    ctx.out(renderGroupHelp(ctx, group));
    return ExitCode.ok;
  }
  throw new UsageError('unknown_command', { command: words.join(' ') }, '');
}

function renderTopHelp(ctx: CliContext): string {
  const rows: [string, string][] = [
    ...COMMANDS.map((c): [string, string] => [commandLabel(c), ctx.t(c.summary)]),
    ...GROUPS.flatMap((g) =>
      g.commands.map((c): [string, string] => [commandLabel(c), ctx.t(c.summary)]),
    ),
    ['help [<command>]', ctx.t('cli.help.summary')],
  ];
  return [
    `${ctx.t('cli.help.usage')} outlink <command> [options]`,
    '',
    ctx.t('cli.help.about'),
    '',
    ctx.t('cli.help.commands'),
    ...columns(rows),
    '',
    ctx.t('cli.help.environment'),
    ctx.t('cli.help.more', { command: '<command>' }),
  ].join('\n');
}

function isHelpFlag(word: string): boolean {
  return word === '--help' || word === '-h';
}
