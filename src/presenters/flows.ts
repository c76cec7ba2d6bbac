import type { Locale } from '../i18n/i18n.js';
import type { FlowError, FlowOutcome } from '../services/authorizations.js';
import { type FailureText, presentFailure } from './failures.js';

/** A flow's outcome as the API and `outlink links authorize --json` show it. */
export type PresentedFlow = Omit<FlowOutcome, 'error' | 'account'> & { error?: FailureText };

/** The failure of a flow in `locale`; flow failures may carry parameters (`account_mismatch`). */
export function presentFlowError(locale: Locale, error: FlowError): FailureText {
  return presentFailure(locale, error.id, error.params ?? {}, error.error, error.description);
}

/**
 * The outcome without the account: the API's flow resource (DESIGN §6) does not carry it;
 * the callback page and the CLI read it from the connection.
 */
export function presentFlowOutcome(locale: Locale, outcome: FlowOutcome): PresentedFlow {
  const { error, account: _, ...rest } = outcome;
  if (!error) return rest;
  return { ...rest, error: presentFlowError(locale, error) };
}
