import type { Actor } from '../domain/actor.js';
import { presentFlowOutcome } from '../presenters/flows.js';
import {
  type AuthorizationFlows,
  FLOW_TTL_MS,
  type FlowOutcome,
} from '../services/authorizations.js';
import { defineCommand } from './command.js';
import { type CliContext, withServices } from './context.js';
import { CliError, ExitCode, printFailure, UsageError } from './failures.js';

const CLI_ACTOR: Actor = { kind: 'cli' };
const COMMAND = 'links authorize';

/** How often the outcome is read: a person in a browser does not notice a second. */
const POLL_MS = 1_000;
/** Waiting longer than a flow lives is pointless: its state expires (DESIGN §6). */
const MAX_TIMEOUT_S = FLOW_TTL_MS / 1000;
/** The API's limit on `accountLabel`: an email address at most (RFC 5321 §4.5.3.1). */
const MAX_LABEL_LENGTH = 320;

/**
 * `outlink links authorize <link>` (DESIGN §6, issue 3 item 1): starts a flow, prints the
 * authorization URL, and waits for its outcome. The browser comes back to the running server
 * (`outlink serve`), not to this process; the two share the database, so the outcome is read
 * from the flow record.
 */
export const authorizeCommand = defineCommand({
  path: ['links', 'authorize'],
  summary: 'cli.authorize.summary',
  details: 'cli.authorize.details',
  positional: { name: '<link>', help: 'cli.links.argument' },
  options: {
    connection: { type: 'string', value: '<id>', help: 'cli.authorize.options.connection' },
    'account-label': {
      type: 'string',
      value: '<label>',
      help: 'cli.authorize.options.account_label',
    },
    timeout: { type: 'string', value: '<seconds>', help: 'cli.authorize.options.timeout' },
    json: { type: 'boolean', help: 'cli.authorize.options.json' },
  },
  async run(ctx, { values, target }) {
    const timeoutS = parseTimeout(ctx, values.timeout);
    const accountLabel = checkLabel(ctx, values['account-label']);
    // With --json stdout carries the outcome alone, so the instructions go to stderr.
    const say = (line: string) => (values.json ? ctx.err(line) : ctx.out(line));
    const { link, outcome, account } = await withServices(ctx, async (services) => {
      const link = await services.links.find(target);
      const { flowId, authorizationUrl } = await services.flows.start(CLI_ACTOR, link.id, {
        connectionId: values.connection,
        accountLabel,
      });
      say(ctx.t('cli.authorize.open'));
      say(authorizationUrl);
      say(ctx.t('cli.authorize.redirect', { redirectUrl: link.redirectUrl }));
      ctx.err(ctx.t('cli.authorize.waiting', { seconds: timeoutS }));
      const outcome = await waitForOutcome(services.flows, flowId, timeoutS * 1000);
      const account =
        outcome.status === 'succeeded' && outcome.connectionId
          ? (await services.connections.get(outcome.connectionId)).account
          : undefined;
      return { link, outcome, account };
    });

    const presented = presentFlowOutcome(ctx.locale, outcome);
    if (values.json) ctx.out(JSON.stringify({ ...presented, account }, null, 2));
    if (outcome.status === 'succeeded') {
      if (!values.json) {
        ctx.out(
          ctx.t('cli.authorize.succeeded', {
            account: account ?? '',
            connectionId: outcome.connectionId ?? '',
            link: link.name,
          }),
        );
      }
      return ExitCode.ok;
    }
    if (presented.error) {
      printFailure(ctx, presented.error);
      return ExitCode.failed;
    }
    // Still pending: the server may yet complete the flow until it expires.
    throw new CliError('authorization_timeout', {
      seconds: String(timeoutS),
      redirectUrl: link.redirectUrl,
    });
  },
});

/**
 * Reads the flow about once a second until it leaves `pending` or the time is up. Wall-clock
 * time and a real timer on purpose: this waits for a person in a browser, while the
 * services' clock may be one that tests hold still.
 */
async function waitForOutcome(
  flows: AuthorizationFlows,
  flowId: string,
  timeoutMs: number,
): Promise<FlowOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await flows.get(flowId);
    const left = deadline - Date.now();
    if (outcome.status !== 'pending' || left <= 0) return outcome;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}

function parseTimeout(ctx: CliContext, value: string | undefined): number {
  if (value === undefined) return MAX_TIMEOUT_S;
  const seconds = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (seconds >= 1 && seconds <= MAX_TIMEOUT_S) return seconds;
  throw new UsageError(
    'option_value_invalid',
    {
      option: '--timeout',
      value,
      expected: ctx.t('cli.authorize.timeout_expected', { max: MAX_TIMEOUT_S }),
    },
    COMMAND,
  );
}

function checkLabel(ctx: CliContext, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const label = value.trim();
  if (label !== '' && label.length <= MAX_LABEL_LENGTH) return label;
  throw new UsageError(
    'option_value_invalid',
    {
      option: '--account-label',
      value,
      expected: ctx.t('cli.authorize.label_expected', { max: MAX_LABEL_LENGTH }),
    },
    COMMAND,
  );
}
