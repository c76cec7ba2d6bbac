/**
 * Re-authorization links (issue 13) as the API, CLI and UI show them — never with a secret,
 * which only the create answer carries — and the email that brings one to the mailbox's owner.
 */
import { type Locale, translate } from '../i18n/i18n.js';
import type { FlowOutcome } from '../services/authorizations.js';
import type { InvitationView, InvitationWords } from '../services/reauthorizations.js';
import type { PresentedFlow } from './flows.js';

export type ReauthorizationJson = InvitationView;

export function presentReauthorization(invitation: InvitationView): ReauthorizationJson {
  return {
    id: invitation.id,
    connectionId: invitation.connectionId,
    status: invitation.status,
    createdBy: invitation.createdBy,
    createdAt: invitation.createdAt,
    expiresAt: invitation.expiresAt,
    usedAt: invitation.usedAt,
    revokedAt: invitation.revokedAt,
    emailedTo: invitation.emailedTo,
    flowId: invitation.flowId,
  };
}

/** The email's words, in the owner's language; the link is the only secret in it. */
export const reauthorizationWords: InvitationWords = (locale, data) => ({
  subject: translate(locale, 'reauthorization.email.subject', { account: data.account }),
  text: translate(locale, 'reauthorization.email.body', {
    account: data.account,
    url: data.url,
    expiresAt: data.expiresAt,
  }),
});

/**
 * The callback page of a flow a re-authorization link started, for the mailbox's owner: no
 * way into the admin pages they cannot use, and another account refused in their words.
 */
export function ownerCallbackView(
  locale: Locale,
  outcome: FlowOutcome,
  view: PresentedFlow,
): Omit<PresentedFlow, 'linkId'> {
  const { linkId: _, ...rest } = view;
  const params = outcome.error?.params;
  if (outcome.error?.id !== 'account_mismatch' || !params || !rest.error) return rest;
  const words = { expected: params.expected ?? '', actual: params.actual ?? '' };
  return {
    ...rest,
    error: {
      ...rest.error,
      message: translate(locale, 'reauthorization.accountMismatch.message', words),
      remedy: translate(locale, 'reauthorization.accountMismatch.remedy', words),
    },
  };
}
