/**
 * A connection test's result in words, in one language, as the API, the CLI and the UI show it
 * (DESIGN §8: `{ok, steps: [{name, ok, detail}], error?}`).
 */
import { type Locale, translate } from '../i18n/i18n.js';
import type { TestResult } from './connection-test.js';
import type { MailStep } from './mail-error.js';

export interface TestReportStep {
  readonly name: MailStep;
  /** The step's name in words, e.g. "Greeting and capabilities". */
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface TestReport {
  readonly ok: boolean;
  readonly steps: TestReportStep[];
  readonly error?: {
    readonly step: MailStep;
    readonly code: string;
    readonly message: string;
    readonly remedy: string;
    /** What the server said, verbatim (not ours: shown as data). */
    readonly serverResponse?: string;
    /** The server's decoded RFC 7628 §3.2.2 error challenge. */
    readonly challenge?: { status: string; scope?: string; schemes?: string };
  };
}

/** Puts a test result into words; the failed step's detail is the error's message. */
export function presentTestResult(locale: Locale, result: TestResult): TestReport {
  const failure = result.error;
  const error = failure
    ? {
        step: failure.step,
        code: failure.code,
        message: translate(locale, `${catalogOf(failure.catalog)}.${failure.code}.message`, {
          ...failure.params,
        }),
        remedy: failure.remedy
          ? translate(locale, `mail.remedies.${failure.remedy.id}`, failure.remedy.params)
          : translate(locale, `${catalogOf(failure.catalog)}.${failure.code}.remedy`, {
              ...failure.params,
            }),
        ...(failure.serverResponse ? { serverResponse: failure.serverResponse } : {}),
        ...(failure.challenge
          ? {
              challenge: {
                status: failure.challenge.status,
                ...(failure.challenge.scope !== undefined
                  ? { scope: failure.challenge.scope }
                  : {}),
                ...(failure.challenge.schemes !== undefined
                  ? { schemes: failure.challenge.schemes }
                  : {}),
              },
            }
          : {}),
      }
    : undefined;
  return {
    ok: result.ok,
    steps: result.steps.map((step) => ({
      name: step.name,
      label: translate(locale, `mail.steps.${step.name}`),
      ok: step.ok,
      detail:
        step.ok || !error
          ? translate(locale, `mail.details.${step.detail.key}`, step.detail.params)
          : error.message,
    })),
    ...(error ? { error } : {}),
  };
}

function catalogOf(catalog: 'mail' | 'errors'): string {
  return catalog === 'mail' ? 'mail.errors' : 'errors';
}
