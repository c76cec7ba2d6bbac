/**
 * Notifications to administrators (issue 13 item 3): what is worth a notice, and the rules
 * that keep a flapping connection from flooding anybody. No I/O.
 */

/** At most one notice per subject and state within this window (a recovery is always told). */
export const NOTICE_WINDOW_MS = 60 * 60 * 1000;

/** Days before a client secret's expiry at which a reminder goes out, once each. */
export const SECRET_EXPIRY_THRESHOLDS_DAYS = [30, 14, 3] as const;
export type SecretExpiryThreshold = (typeof SECRET_EXPIRY_THRESHOLDS_DAYS)[number];

/** The state of a subject that needs no notice. */
export const OK_STATE = 'ok';

/** What a notice is about; each has a subject line and a body in en.json / ja.json. */
export const NoticeKinds = [
  'connection_failing',
  'connection_reauthorization_required',
  'connection_recovered',
  'link_credentials_failed',
  'link_credentials_recovered',
  'mail_handler_stopped',
  'mail_handler_recovered',
  'client_secret_expiring',
] as const;
export type NoticeKind = (typeof NoticeKinds)[number];

/** The subject a notice's de-duplication is kept under. */
export const noticeSubjects = {
  connection: (id: string) => `connection:${id}`,
  linkCredentials: (id: string) => `link:${id}`,
  mailHandler: (id: string) => `mail_handler:${id}`,
  secretExpiry: (linkId: string, expiresAt: string) => `secret:${linkId}:${expiresAt}`,
};

/**
 * The tightest reminder threshold a client secret expiring at `expiresAt` has reached at
 * `now` (an expired secret counts as the 3-day one); undefined while more than 30 days remain.
 */
export function secretExpiryThreshold(
  expiresAt: Date,
  now: Date,
): SecretExpiryThreshold | undefined {
  const left = expiresAt.getTime() - now.getTime();
  const day = 24 * 60 * 60 * 1000;
  let reached: SecretExpiryThreshold | undefined;
  for (const days of SECRET_EXPIRY_THRESHOLDS_DAYS) if (left <= days * day) reached = days;
  return reached;
}

/** Whole days left until `expiresAt` (0 on the day, negative once past). */
export function daysLeft(expiresAt: Date, now: Date): number {
  return Math.ceil((expiresAt.getTime() - now.getTime()) / (24 * 60 * 60 * 1000));
}
