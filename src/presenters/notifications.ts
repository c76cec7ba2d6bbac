/**
 * The words of the notices emailed to administrators (issue 13), in the configured language.
 * Only names, codes, dates and links come from the notice's data; the cause and the remedy of
 * a provider's answer come from the same catalog the API and diagnose show.
 */
import { hasMessage, translate } from '../i18n/i18n.js';
import type { NoticeWords } from '../services/notifications.js';

export function createNoticeWords(baseUrl: URL): NoticeWords {
  const base = baseUrl.href.replace(/\/$/, '');
  return (language, kind, data) => {
    const params: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string' || typeof value === 'number') params[key] = value;
    }
    const reason = typeof data.reason === 'string' ? data.reason : '';
    params.reason = reason || translate(language, 'notifications.unknownReason');
    const catalog = `providerErrors.${reason}`;
    params.cause =
      reason && hasMessage(language, `${catalog}.cause`)
        ? translate(language, `${catalog}.cause`)
        : '';
    params.remedy =
      reason && hasMessage(language, `${catalog}.remedy`)
        ? translate(language, `${catalog}.remedy`)
        : '';
    if (typeof data.expiresAt === 'string') params.expiresAt = data.expiresAt.slice(0, 10);
    const body = translate(language, `notifications.${kind}.body`, params)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .join('\n');
    const footer = translate(language, 'notifications.footer', {
      baseUrl: base,
      eventsUrl: `${base}/admin/events`,
    });
    return {
      subject: translate(language, `notifications.${kind}.subject`, params),
      text: `${body}\n\n-- \n${footer}\n`,
    };
  };
}
