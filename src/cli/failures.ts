import { ConfigError, describeViolation } from '../config/config.js';
import { isOutlinkError, OutlinkError } from '../domain/errors.js';
import { presentError } from '../presenters/errors.js';
import type { FailureText } from '../presenters/failures.js';
import type { CliContext } from './context.js';
import { printable } from './terminal.js';

/** Exit codes: 0 done, 1 failed, 2 the command line itself was wrong. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/** Problems with the command line; texts under `cli.usage.<problem>`. */
export type UsageProblem =
  | 'missing_command'
  | 'unknown_command'
  | 'unknown_option'
  | 'option_value_missing'
  | 'option_takes_no_value'
  | 'option_value_invalid'
  | 'option_repeated'
  | 'options_conflict'
  | 'nothing_to_change'
  | 'missing_argument'
  | 'unexpected_argument';

/** A wrong command line: exit code 2 and a pointer to the right `--help`. */
export class UsageError extends Error {
  readonly problem: UsageProblem;
  readonly params: Readonly<Record<string, string>>;
  /** The command whose help explains the right usage; empty for the top level. */
  readonly command: string;

  constructor(problem: UsageProblem, params: Readonly<Record<string, string>>, command: string) {
    super(`${problem} ${JSON.stringify(params)}`);
    this.name = 'UsageError';
    this.problem = problem;
    this.params = params;
    this.command = command;
  }
}

/** Failures only the CLI has; texts under `cli.errors.<code>`. */
export type CliErrorCode = 'secret_file_unreadable' | 'listen_failed' | 'authorization_timeout';

/** A CLI-side failure with a catalog text: exit code 1. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly params: Readonly<Record<string, string>>;

  constructor(code: CliErrorCode, params: Readonly<Record<string, string>>, cause?: unknown) {
    super(`${code} ${JSON.stringify(params)}`, { cause });
    this.name = 'CliError';
    this.code = code;
    this.params = params;
  }
}

/**
 * Prints `error <code>: <message>` and `remedy: <remedy>` on stderr in the user's language
 * and returns the exit code. Nothing here prints a secret: catalog texts carry names and
 * ids, never values of secret fields.
 */
export function reportError(ctx: CliContext, raw: unknown): number {
  const error = asCatalogError(raw);
  if (error instanceof UsageError) {
    const help = error.command ? `outlink ${error.command} --help` : 'outlink --help';
    ctx.err(`error usage: ${ctx.t(`cli.usage.${error.problem}`, error.params)}`);
    ctx.err(`remedy: ${ctx.t('cli.usage.remedy', { help })}`);
    return ExitCode.usage;
  }
  if (isOutlinkError(error)) {
    const { code, message, remedy } = presentError(ctx.locale, error);
    ctx.err(`error ${code}: ${message}`);
    if (remedy !== undefined) ctx.err(`remedy: ${remedy}`);
    return ExitCode.failed;
  }
  if (error instanceof ConfigError) {
    ctx.err(`error config_invalid: ${ctx.t('cli.errors.config_invalid.message')}`);
    for (const v of error.violations) ctx.err(`  - ${describeViolation(v)}`);
    printRemedy(ctx, 'cli.errors.config_invalid.remedy', {});
    return ExitCode.failed;
  }
  if (error instanceof CliError) {
    ctx.err(`error ${error.code}: ${ctx.t(`cli.errors.${error.code}.message`, error.params)}`);
    printRemedy(ctx, `cli.errors.${error.code}.remedy`, error.params);
    return ExitCode.failed;
  }
  const detail = error instanceof Error ? error.message : String(error);
  ctx.err(`error unexpected: ${ctx.t('cli.errors.unexpected.message', { detail })}`);
  printRemedy(ctx, 'cli.errors.unexpected.remedy', {});
  return ExitCode.failed;
}

/**
 * Prints a provider or flow failure the way `reportError` prints a catalog error, plus what
 * the provider itself said. The provider's text is not ours: control characters are dropped
 * so that it cannot rewrite the terminal.
 */
export function printFailure(ctx: CliContext, failure: FailureText): void {
  ctx.err(`error ${failure.code}: ${failure.message}`);
  ctx.err(`remedy: ${failure.remedy}`);
  if (!failure.providerError) return;
  const said = [failure.providerError, failure.providerDescription].filter(Boolean).join(': ');
  ctx.err(`provider: ${printable(said)}`);
}

/**
 * Re-labels the field an error names with the flag that set it, so that the CLI says
 * `--client-id` where the API says `clientId`. `scopes[2]` becomes `--scope`.
 */
export function withFlagNames(error: unknown, flags: Readonly<Record<string, string>>): unknown {
  if (!isOutlinkError(error) || typeof error.params.field !== 'string') return error;
  const field = error.params.field.replace(/\[\d+\].*$/, '');
  const flag = flags[field];
  if (!flag) return error;
  return new OutlinkError(
    error.code,
    { ...error.params, field: flag },
    { cause: error, details: error.details ? { ...error.details } : undefined },
  );
}

function printRemedy(
  ctx: CliContext,
  key: string,
  params: Readonly<Record<string, string | number>>,
): void {
  const remedy = ctx.t(key, params);
  if (remedy !== key) ctx.err(`remedy: ${remedy}`);
}

/** Driver errors that mean "the database is not there" become the catalog's code. */
const DATABASE_DOWN = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  'SQLITE_CANTOPEN',
]);

function asCatalogError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && DATABASE_DOWN.has(code)) {
    return new OutlinkError('database_unavailable', {}, { cause: error });
  }
  // pg reports a refused pool connection as an AggregateError of per-address failures.
  if (error instanceof AggregateError && error.errors.some((e) => asCatalogError(e) !== e)) {
    return new OutlinkError('database_unavailable', {}, { cause: error });
  }
  return error;
}
