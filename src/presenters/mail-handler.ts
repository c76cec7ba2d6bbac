/** The mail handler's status as the API, the CLI and the UI show it, in one language. */
import { hasMessage, type Locale, translate } from '../i18n/i18n.js';
import type { HandlerStatusJson } from '../schemas/mail-handler.js';
import type { HandlerStatusView } from '../services/mail-handler.js';

/**
 * A handler's status in words. A mail server's refusal keeps the server's own words and the
 * error catalog's cause and remedy next to the handler's message, never only the message.
 */
export function presentHandlerStatus(locale: Locale, view: HandlerStatusView): HandlerStatusJson {
  const { lastFailure, ...rest } = view;
  const code = view.lastError;
  const key = code && hasMessage(locale, `handler.lastError.${code}`) ? code : 'other';
  const failure = lastFailure ?? undefined;
  return {
    ...rest,
    statusText: translate(locale, `handler.status.${view.status}`),
    lastError: code
      ? {
          code,
          message: translate(locale, `handler.lastError.${key}`, { code }),
          ...(failure?.serverText ? { serverResponse: failure.serverText } : {}),
          ...(failure?.serverCode ? { serverCode: failure.serverCode } : {}),
          ...(failure?.refusal
            ? {
                refusal: failure.refusal,
                cause: translate(locale, `mail.refusals.${failure.refusal}`),
              }
            : {}),
          ...(failure?.remedy
            ? {
                remedy: translate(
                  locale,
                  `mail.remedies.${failure.remedy.id}`,
                  failure.remedy.params,
                ),
              }
            : {}),
        }
      : null,
  };
}
