import { Type } from '@sinclair/typebox';

/** What failed in a flow: the catalog's cause and remedy, and the provider's own words. */
const FlowError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  remedy: Type.String(),
  providerError: Type.Optional(Type.String()),
  providerDescription: Type.Optional(Type.String()),
});

/** `GET /api/v1/authorizations/:id` (DESIGN §6). */
export const FlowResponse = Type.Object({
  flowId: Type.String(),
  linkId: Type.String(),
  /** pending, succeeded or failed */
  status: Type.String(),
  connectionId: Type.Optional(Type.String()),
  error: Type.Optional(FlowError),
});

/** Body of `POST /api/v1/links/:id/authorizations` (optional as a whole). */
export const StartAuthorizationBody = Type.Object(
  {
    connectionId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    accountLabel: Type.Optional(Type.String({ minLength: 1, maxLength: 320, pattern: '\\S' })),
  },
  { additionalProperties: false },
);

/** Where to send the browser. */
export const StartedAuthorization = Type.Object({
  flowId: Type.String(),
  authorizationUrl: Type.String(),
});

/** The redirect URL's path: `/oauth2/callback/<suffix>` (DESIGN §4). */
export const CallbackParams = Type.Object({
  suffix: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
});

/** The authorization response (RFC 6749 §4.1.2): whatever the provider sent. */
export const CallbackQuery = Type.Record(Type.String(), Type.String());
