/**
 * The mail handler's API shapes (DESIGN §8): what a run did, and where a mailbox's handler
 * stands.
 */
import { type Static, Type } from '@sinclair/typebox';

const Count = Type.Integer({ minimum: 0 });

/** `POST /api/v1/mail-servers/:id/poll`. */
export const PollResult = Type.Object({
  fetched: Count,
  created: Count,
  commented: Count,
  skipped: Count,
  failed: Count,
});
export type PollResult = Static<typeof PollResult>;

export const HandlerStatuses = [
  'never_run',
  'idle',
  'running',
  'failed',
  'waiting_reauthorization',
  'paused',
] as const;

/** `GET /api/v1/mail-servers/:id/handler`. */
export const HandlerStatus = Type.Object({
  mailServerId: Type.String(),
  enabled: Type.Boolean(),
  status: Type.Union(HandlerStatuses.map((s) => Type.Literal(s))),
  /** The status in words, in the request's language. */
  statusText: Type.String(),
  lastRunAt: Type.Union([Type.String(), Type.Null()]),
  lastSuccessAt: Type.Union([Type.String(), Type.Null()]),
  nextRunAt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([
    Type.Object({
      code: Type.String(),
      message: Type.String(),
      /** What the mail server said, verbatim (not ours: shown as data), and its code. */
      serverResponse: Type.Optional(Type.String()),
      serverCode: Type.Optional(Type.String()),
      /** The error catalog's entry for the server's answer, what it means and what to do. */
      refusal: Type.Optional(Type.String()),
      cause: Type.Optional(Type.String()),
      remedy: Type.Optional(Type.String()),
    }),
    Type.Null(),
  ]),
  lastCounts: Type.Union([PollResult, Type.Null()]),
});
export type HandlerStatusJson = Static<typeof HandlerStatus>;
