import { type Static, Type } from '@sinclair/typebox';

/** Body of `POST /api/v1/session`: the UI login. */
export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 100 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type LoginInput = Static<typeof LoginBody>;

/** Body of `POST /api/v1/session/password`. */
export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Type.String({ minLength: 12, maxLength: 256 }),
  },
  { additionalProperties: false },
);
export type ChangePasswordInput = Static<typeof ChangePasswordBody>;

/** The answer to a login: the session cookie is set, the CSRF token is in the body. */
export const SessionResponse = Type.Object({
  csrfToken: Type.String(),
  username: Type.String(),
  expiresAt: Type.String(),
});

/** Who is signed in. */
export const WhoAmIResponse = Type.Object({ actor: Type.String(), kind: Type.String() });
