import { hasMessage, type Locale, translate } from '../i18n/i18n.js';
import type { DiagnosisJson } from '../schemas/diagnose.js';
import type { Diagnosis, DiagnosticCheck } from '../services/diagnose/index.js';
import { presentTestResult } from './mail-servers.js';

/** A diagnosis in the reader's language: `diagnose.<id>.<text>` of src/i18n. */
export function presentDiagnosis(locale: Locale, diagnosis: Diagnosis): DiagnosisJson {
  return {
    linkId: diagnosis.linkId,
    linkName: diagnosis.linkName,
    checks: diagnosis.checks.map((c) => presentCheck(locale, c)),
  };
}

function presentCheck(locale: Locale, c: DiagnosticCheck): DiagnosisJson['checks'][number] {
  const key = `diagnose.${c.id}.${c.text}`;
  const params: Record<string, string | number> = { ...c.params };
  let remedy = hasMessage('en', `${key}.remedy`)
    ? translate(locale, `${key}.remedy`, params)
    : undefined;
  if (c.catalog && hasMessage('en', `providerErrors.${c.catalog}.remedy`)) {
    // The error catalog's reading, as the connection and the troubleshooting guide show it.
    remedy = translate(locale, `providerErrors.${c.catalog}.remedy`);
  }
  if (c.mailTest?.error) {
    // The mail server's own failure, worded by the mail catalog, with the server's words.
    const error = presentTestResult(locale, c.mailTest).error;
    if (error) {
      params.step = translate(locale, `mail.steps.${error.step}`);
      params.detail = error.serverResponse
        ? `${error.message} (${error.serverResponse})`
        : error.message;
      const refused = c.mailTest.error.remedy;
      // The mail catalog's advice assumes a refresh was tried; diagnose never refreshes.
      remedy =
        refused?.id === 'token_refused'
          ? translate(locale, 'diagnose.mail_server.token_refused', refused.params)
          : error.remedy;
    }
  }
  return {
    id: c.id,
    status: c.status,
    ...(c.subject ? { subject: c.subject } : {}),
    message: translate(locale, `${key}.message`, params),
    ...(remedy ? { remedy } : {}),
  };
}
