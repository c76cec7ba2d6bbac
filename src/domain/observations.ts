/**
 * What the running system tells the metrics (issue 13 item 5): counter increments only, no
 * I/O and never a secret, so that the lower layers can report on their hot paths without
 * knowing Prometheus. `services/metrics.ts` implements it; the default ignores everything.
 */
export interface Observations {
  /**
   * One token request of a refresh for a connection of `linkId`: `failure` is the catalog id
   * of the error (`invalid_grant`, `aadsts_700082`, …) when it failed.
   */
  refreshAttempt(linkId: string, failure?: string): void;
  /** An authorization flow ended: `authorized`, or `failed` with the catalog id of why. */
  flowEnded(outcome: 'authorized' | 'failed', reason?: string): void;
  /** A mailbox run of the mail handler ended, with what it did to the messages. */
  mailPoll(outcome: MailPollOutcome, counts?: Readonly<Record<string, number>>): void;
  /** A webhook delivery attempt: delivered, failed with a retry to come, or given up. */
  webhookDelivery(outcome: 'delivered' | 'retrying' | 'failed'): void;
}

export type MailPollOutcome = 'ok' | 'failed' | 'waiting_reauthorization';

/** Observations nobody reads: the default where no metrics are wired (CLI, unit tests). */
export const ignoredObservations: Observations = Object.freeze({
  refreshAttempt: () => undefined,
  flowEnded: () => undefined,
  mailPoll: () => undefined,
  webhookDelivery: () => undefined,
});
