/** The mail handler's status as the API, the CLI and the UI show it, in one language. */
import { hasMessage, type Locale, translate } from '../i18n/i18n.js';
import type { HandlerStatusJson } from '../schemas/mail-handler.js';
import type { HandlerStatusView } from '../services/mail-handler.js';

export function presentHandlerStatus(locale: Locale, view: HandlerStatusView): HandlerStatusJson {
  const code = view.lastError;
  const key = code && hasMessage(locale, `handler.lastError.${code}`) ? code : 'other';
  return {
    ...view,
    statusText: translate(locale, `handler.status.${view.status}`),
    lastError: code
      ? { code, message: translate(locale, `handler.lastError.${key}`, { code }) }
      : null,
  };
}
