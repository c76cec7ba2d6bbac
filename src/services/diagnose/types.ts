import {
  type DiagnosticId,
  DiagnosticIds,
  type DiagnosticStatus,
  DiagnosticStatuses,
} from '../../domain/diagnosis.js';
import type { TestResult } from '../../mail/connection-test.js';

export { type DiagnosticId, DiagnosticIds, type DiagnosticStatus, DiagnosticStatuses };

/**
 * One check's outcome as a message key with its values: `diagnose.<id>.<text>.message` and
 * `.remedy` in src/i18n; the edges put it into words. Values never hold a secret.
 */
export interface DiagnosticCheck {
  readonly id: DiagnosticId;
  readonly status: DiagnosticStatus;
  /** What the check looked at, when there are several: an account, a host, a mail server. */
  readonly subject?: string;
  readonly text: string;
  readonly params: Readonly<Record<string, string | number>>;
  /** `mail_server`: the connection test, whose failure the edge words with the mail catalog. */
  readonly mailTest?: TestResult;
  /**
   * The provider error catalog's entry the failure was read as (`providerErrors.<id>`): its
   * cause and remedy are what the edge shows, the same as on the connection and in the guide.
   */
  readonly catalog?: string;
}

export interface Diagnosis {
  readonly linkId: string;
  readonly linkName: string;
  readonly checks: readonly DiagnosticCheck[];
}

export const check = (
  id: DiagnosticId,
  status: DiagnosticStatus,
  text: string,
  params: Readonly<Record<string, string | number>> = {},
  subject?: string,
  catalog?: string,
): DiagnosticCheck => ({
  id,
  status,
  text,
  params,
  ...(subject ? { subject } : {}),
  ...(catalog ? { catalog } : {}),
});
