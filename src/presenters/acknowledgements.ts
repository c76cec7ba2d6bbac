/**
 * The acknowledgement a reporter receives when their email became an issue, in the language
 * they wrote in (Japanese when the message was, English otherwise). Only the key and the
 * summary come from the issue; the summary is the reporter's own subject, sent back as text.
 */
import { translate } from '../i18n/i18n.js';
import type { AcknowledgementWords } from '../services/mail-handler.js';

export const acknowledgementWords: AcknowledgementWords = (language, issue) => ({
  text: translate(language, 'handler.acknowledgement.body', {
    key: issue.key,
    summary: issue.summary,
  }),
});
