import { parseArgs } from 'node:util';
import type { CliContext } from './context.js';
import { UsageError } from './failures.js';
import { printable } from './terminal.js';

/** One option of a command, as `node:util` parseArgs knows it plus what help shows. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder shown in help after the flag, e.g. `<name>`. */
  readonly value?: string;
  /** i18n key of the option's help line. */
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed values of a command's options, typed from its specs. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? readonly string[]
      : string;
};

export interface ParsedArgs<O extends OptionSpecs> {
  readonly values: OptionValues<O>;
  /** The positional argument, when the command takes one. */
  readonly target: string;
}

/** What the parser produces before `defineCommand` types it by the command's specs. */
export interface RawArgs {
  readonly values: Readonly<Record<string, string | boolean | readonly string[]>>;
  readonly target: string;
}

export interface CommandSpec<O extends OptionSpecs> {
  /** The words that name the command: `['links', 'create']`. */
  readonly path: readonly string[];
  /** i18n key of the one-line summary. */
  readonly summary: string;
  /**
   * Synopsis after the command words, e.g. `--name <name> [options]`; several for commands
   * used in more than one way, one usage line each.
   */
  readonly synopsis?: string | readonly string[];
  /** i18n key of a longer explanation shown by `--help`. */
  readonly details?: string;
  /** A single positional argument, required unless `optional`. */
  readonly positional?: Positional;
  readonly options: O;
  run(ctx: CliContext, args: ParsedArgs<O>): Promise<number>;
}

/** A command with its option types erased, as the registry holds it. */
export interface Command {
  readonly path: readonly string[];
  readonly summary: string;
  readonly synopsis?: string | readonly string[];
  readonly details?: string;
  readonly positional?: Positional;
  readonly options: OptionSpecs;
  /** Parses `argv` (the words after the command path), then runs; returns the exit code. */
  execute(ctx: CliContext, argv: readonly string[]): Promise<number>;
}

/**
 * A positional argument: its placeholder, e.g. `<link>`, and the i18n key of its help line.
 * An optional one is left out of the generated synopsis: the command's `synopsis` places it.
 */
export interface Positional {
  readonly name: string;
  readonly help: string;
  readonly optional?: boolean;
}

/** A named set of commands such as `links`. */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', help: 'cli.options.help' };

/** Types a command's options from its spec and wraps parsing, `--help` and usage errors. */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  return {
    path: spec.path,
    summary: spec.summary,
    synopsis: spec.synopsis,
    details: spec.details,
    positional: spec.positional,
    options: spec.options,
    async execute(ctx, argv) {
      const parsed = parseCommandArgs(spec, argv);
      if (parsed === 'help') {
        ctx.out(renderCommandHelp(ctx, spec));
        return 0;
      }
      // Sound: the parser put only declared options in, each of its declared type.
      return spec.run(ctx, parsed as unknown as ParsedArgs<O>);
    },
  };
}

/**
 * Parses with `strict: false` and checks the tokens itself, so that every usage problem
 * gets a translated message and exit code 2 instead of Node's English TypeError.
 */
export function parseCommandArgs(
  spec: Pick<Command, 'path' | 'options' | 'positional'>,
  argv: readonly string[],
): RawArgs | 'help' {
  const options: OptionSpecs = { ...spec.options, help: HELP_OPTION };
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(options).map(([name, o]) => [
        name,
        {
          type: o.type,
          ...(o.multiple ? { multiple: true } : {}),
          ...(o.short ? { short: o.short } : {}),
        },
      ]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const command = spec.path.join(' ');
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';
  const values: Record<string, string | boolean | readonly string[]> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!option) throw new UsageError('unknown_option', { option: token.rawName }, command);
    if (option.type === 'boolean') {
      if (token.value !== undefined) {
        throw new UsageError('option_takes_no_value', { option: token.rawName }, command);
      }
      values[token.name] = true;
      continue;
    }
    // A value that looks like a flag is almost always a forgotten value; `--x=-v` says it
    // is meant.
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && value !== '-')) {
      throw new UsageError('option_value_missing', { option: token.rawName }, command);
    }
    if (option.multiple) {
      const list = values[token.name];
      values[token.name] = [...(Array.isArray(list) ? list : []), value];
    } else if (token.name in values) {
      throw new UsageError('option_repeated', { option: token.rawName }, command);
    } else {
      values[token.name] = value;
    }
  }
  const wanted = spec.positional ? 1 : 0;
  if (positionals.length > wanted) {
    throw new UsageError('unexpected_argument', { argument: positionals[wanted]! }, command);
  }
  if (spec.positional && !spec.positional.optional && positionals.length === 0) {
    throw new UsageError('missing_argument', { argument: spec.positional.name }, command);
  }
  return { values, target: positionals[0] ?? '' };
}

/** `--help` of one command: synopsis, summary, details and every option. */
export function renderCommandHelp(
  ctx: CliContext,
  spec: Pick<Command, 'path' | 'summary' | 'synopsis' | 'details' | 'positional' | 'options'>,
): string {
  const usages = (
    typeof spec.synopsis === 'string' || spec.synopsis === undefined
      ? [spec.synopsis ?? (Object.keys(spec.options).length ? '[options]' : '')]
      : spec.synopsis
  ).map((tail) =>
    [
      'outlink',
      ...spec.path,
      ...(spec.positional && !spec.positional.optional ? [spec.positional.name] : []),
      tail,
    ]
      .filter(Boolean)
      .join(' '),
  );
  const label = ctx.t('cli.help.usage');
  const rows: [string, string][] = [];
  if (spec.positional) rows.push([spec.positional.name, ctx.t(spec.positional.help)]);
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    const repeat = o.multiple ? ` ${ctx.t('cli.help.repeatable')}` : '';
    rows.push([flag, `${ctx.t(o.help)}${repeat}`]);
  }
  return [
    `${label} ${usages[0]}`,
    ...usages.slice(1).map((usage) => `${padEnd('', displayWidth(label))} ${usage}`),
    '',
    ctx.t(spec.summary),
    ...(spec.details ? ['', ctx.t(spec.details)] : []),
    '',
    ctx.t('cli.help.options'),
    ...columns(rows),
  ].join('\n');
}

/** `--help` of a group: its commands and how to get their help. */
export function renderGroupHelp(ctx: CliContext, group: CommandGroup): string {
  return [
    `${ctx.t('cli.help.usage')} outlink ${group.name} <command> [options]`,
    '',
    ctx.t(group.summary),
    '',
    ctx.t('cli.help.commands'),
    ...columns(group.commands.map((c) => [commandLabel(c), ctx.t(c.summary)])),
    '',
    ctx.t('cli.help.more', { command: `${group.name} <command>` }),
  ].join('\n');
}

/**
 * Rows padded into aligned columns; the last column is not padded. Cells are values from
 * outside (account names, link names, subjects): made `printable`, so that none can break
 * the line or drive the terminal, before their width is measured.
 */
export function table(unsafeRows: readonly (readonly string[])[]): string[] {
  const rows = unsafeRows.map((r) => r.map(printable));
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => displayWidth(r[i] ?? ''))));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : padEnd(cell, widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `show <link>` for the command list. */
export function commandLabel(command: Pick<Command, 'path' | 'positional'>): string {
  return [...command.path, ...(command.positional ? [command.positional.name] : [])].join(' ');
}

/**
 * Two aligned columns, indented; wide (CJK) characters count double. Values from outside are
 * made `printable`, as in `table`.
 */
export function columns(unsafeRows: readonly (readonly [string, string])[], indent = 2): string[] {
  const rows = unsafeRows.map(([left, right]) => [printable(left), printable(right)] as const);
  const width = Math.max(0, ...rows.map(([left]) => displayWidth(left)));
  const margin = ' '.repeat(indent);
  return rows.map(([left, right]) => `${margin}${padEnd(left, width)}  ${right}`.trimEnd());
}

/** Pads to a display width, counting East Asian wide characters as two columns. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6)
  );
}
