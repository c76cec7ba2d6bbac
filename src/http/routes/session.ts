import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { authErrors, errorResponses, validationErrors } from '../../schemas/common.js';
import {
  ChangePasswordBody,
  LoginBody,
  SessionResponse,
  WhoAmIResponse,
} from '../../schemas/session.js';
import type { Services } from '../../services/index.js';
import { DEFAULT_LOGIN_GUARD_OPTIONS } from '../../services/login-guard.js';
import { SESSION_TTL_MS } from '../../services/users.js';
import { actorOf, SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from '../plugins/auth.js';

/** Attempts per client address (any user name) before `POST /session` answers 429. */
export const LOGIN_ATTEMPTS_PER_MINUTE = DEFAULT_LOGIN_GUARD_OPTIONS.attemptsPerAddress;

/** UI login, logout and password change. */
export function sessionRoutes(app: FastifyInstance, { users }: Pick<Services, 'users'>): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/session', {
    // The limits live in the user service's login guard (per address, per user name, and
    // a bound on password hashes), so every way in shares them.
    config: { auth: 'public' },
    schema: {
      tags: ['session'],
      summary: 'Sign in; sets the session cookie and returns the CSRF token',
      security: [],
      body: LoginBody,
      response: {
        200: SessionResponse,
        ...errorResponses(401, 429, 503),
        ...validationErrors,
      },
    },
    handler: async (req, reply) => {
      const session = await users.login(req.body, { address: req.ip });
      reply.setCookie(SESSION_COOKIE, session.token, {
        ...SESSION_COOKIE_OPTIONS,
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return {
        csrfToken: session.csrfToken,
        username: req.body.username,
        expiresAt: session.expiresAt.toISOString(),
      };
    },
  });

  r.get('/api/v1/session', {
    schema: {
      tags: ['session'],
      summary: 'Who is signed in',
      response: { 200: WhoAmIResponse, ...authErrors },
    },
    handler: async (req) => {
      const actor = actorOf(req);
      return { kind: actor.kind, actor: 'name' in actor ? actor.name : actor.kind };
    },
  });

  r.delete('/api/v1/session', {
    schema: {
      tags: ['session'],
      summary: 'Sign out',
      response: { 204: Type.Null(), ...authErrors },
    },
    handler: async (req, reply) => {
      if (req.sessionToken) await users.logout(req.sessionToken);
      reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
      return reply.status(204).send(null);
    },
  });

  r.post('/api/v1/session/password', {
    schema: {
      tags: ['session'],
      summary: 'Change the signed-in user’s password; every session of the user ends',
      body: ChangePasswordBody,
      response: { 204: Type.Null(), ...authErrors, ...validationErrors },
    },
    handler: async (req, reply) => {
      await users.changePassword(actorOf(req), req.body);
      reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
      return reply.status(204).send(null);
    },
  });
}
