import { type Locale, translate } from '../i18n/i18n.js';
import type { FlowError, FlowOutcome } from '../services/authorizations.js';
import type { ConnectionView } from '../services/connections.js';
import type { StoredError } from '../tokens/token-service.js';

/**
 * A provider or flow failure in words: the catalog's cause (`providerErrors.<id>.cause`) and
 * remedy in one language, with the provider's own `error` / `error_description` kept apart.
 */
export interface FailureText {
  readonly code: string;
  readonly message: string;
  readonly remedy: string;
  readonly providerError?: string;
  readonly providerDescription?: string;
}

/** A flow's outcome as the API and `outlink links authorize --json` show it. */
export type PresentedFlow = Omit<FlowOutcome, 'error' | 'account'> & { error?: FailureText };

/** A connection as the API and `outlink connections … --json` show it. */
export type PresentedConnection = Omit<ConnectionView, 'lastError'> & {
  lastError?: FailureText & { scope: string; at: string };
};

/** The failure of a flow in `locale`; flow failures may carry parameters (`account_mismatch`). */
export function presentFlowError(locale: Locale, error: FlowError): FailureText {
  return describe(locale, error.id, error.params ?? {}, error.error, error.description);
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

/** A connection's stored last failure, with whose fault it was (`scope`) and when. */
export function presentStoredError(
  locale: Locale,
  error: StoredError,
): FailureText & { scope: string; at: string } {
  const { code, message, remedy, ...provider } = describe(
    locale,
    error.id,
    {},
    error.error,
    error.description,
  );
  return { code, scope: error.scope, message, remedy, ...provider, at: error.at };
}

export function presentConnection(locale: Locale, c: ConnectionView): PresentedConnection {
  const { lastError, ...rest } = c;
  return { ...rest, ...(lastError ? { lastError: presentStoredError(locale, lastError) } : {}) };
}

function describe(
  locale: Locale,
  id: string,
  params: Readonly<Record<string, string>>,
  providerError: string | undefined,
  providerDescription: string | undefined,
): FailureText {
  return {
    code: id,
    message: translate(locale, `providerErrors.${id}.cause`, params),
    remedy: translate(locale, `providerErrors.${id}.remedy`, params),
    ...(providerError ? { providerError } : {}),
    ...(providerDescription ? { providerDescription } : {}),
  };
}
