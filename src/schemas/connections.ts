import { type Static, Type } from '@sinclair/typebox';
import { ConnectionStatuses } from '../domain/connection.js';
import { Nullable, OneOf } from './common.js';

/** A connection's last failure: cause and remedy in the reader's language, and when. */
const LastError = Type.Object({
  code: Type.String(),
  scope: Type.String(),
  message: Type.String(),
  remedy: Type.String(),
  providerError: Type.Optional(Type.String()),
  providerDescription: Type.Optional(Type.String()),
  at: Type.String(),
});

/** A connection as the API shows it (DESIGN §8): never a token. */
export const ConnectionResponse = Type.Object({
  id: Type.String(),
  linkId: Type.String(),
  account: Type.String(),
  status: OneOf(ConnectionStatuses),
  expiresAt: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  lastRefreshedAt: Nullable(Type.String()),
  lastError: Type.Optional(LastError),
  createdAt: Type.String(),
});
export type ConnectionJson = Static<typeof ConnectionResponse>;

/** What a consumer gets from the token routes (DESIGN §8). */
export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.String(),
  expiresAt: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
  account: Type.String(),
});

/**
 * A consumer whose server refused the token it was given sends that token back in this
 * header; Outlink then refreshes once, unless a newer token is already stored (DESIGN §7).
 * A header, not a query parameter, so the token never lands in an access log.
 */
export const REJECTED_TOKEN_HEADER = 'x-rejected-token';

export const TokenHeaders = Type.Object({
  [REJECTED_TOKEN_HEADER]: Type.Optional(Type.String({ minLength: 1, maxLength: 8192 })),
});

/** `GET /api/v1/links/:id/token?account=…`. */
export const LinkTokenQuery = Type.Object(
  { account: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })) },
  { additionalProperties: false },
);
