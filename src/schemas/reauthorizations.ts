import { Type } from '@sinclair/typebox';
import { Nullable, OneOf } from './common.js';

/** Body of `POST /api/v1/connections/:id/reauthorization` (optional as a whole). */
export const CreateReauthorizationBody = Type.Object(
  {
    /** Lifetime in hours (default 24; 1 to 168). */
    expiresInHours: Type.Optional(Type.Integer()),
    /** Email the link through this outgoing (SMTP) mail server, id or name. */
    mailServer: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** The recipient of the email (default: the connection's account). */
    to: Type.Optional(
      Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }),
    ),
    /** The email's language (default: the request's). */
    language: Type.Optional(OneOf(['en', 'ja'])),
  },
  { additionalProperties: false },
);

/** A re-authorization link as listed: never its secret. */
export const ReauthorizationResponse = Type.Object({
  id: Type.String(),
  connectionId: Type.String(),
  /** active, used, expired or revoked */
  status: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  usedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
  emailedTo: Nullable(Type.String()),
  flowId: Nullable(Type.String()),
});

/** The answer of a create: the link itself, this once. */
export const CreatedReauthorization = Type.Composite([
  ReauthorizationResponse,
  Type.Object({ url: Type.String() }),
]);

/** The answer of a revoke. */
export const RevokedReauthorization = Type.Object({ revoked: Type.Integer() });
