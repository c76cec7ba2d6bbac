import type { Locale } from '../i18n/i18n.js';
import type { ConnectionJson } from '../schemas/connections.js';
import type { ConnectionView } from '../services/connections.js';
import type { StoredError } from '../tokens/token-service.js';
import { type FailureText, presentFailure } from './failures.js';

/** A connection's last failure in words, with whose fault it was (`scope`) and when. */
export type PresentedStoredError = FailureText & { scope: string; at: string };

/** A connection as the API, `outlink connections … --json` and the link page show it. */
export type PresentedConnection = ConnectionJson;

/** A connection's stored last failure, with whose fault it was (`scope`) and when. */
export function presentStoredError(locale: Locale, error: StoredError): PresentedStoredError {
  const { code, message, remedy, ...provider } = presentFailure(
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
