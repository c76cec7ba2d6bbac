import type {} from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authErrors, errorResponses, validationErrors } from '../../schemas/common.js';
import {
  ChangePasswordBody,
  LoginBody,
  SessionResponse,
  WhoAmIResponse,
} from '../../schemas/session.js';
import type { Services } from '../../services/index.js';
import { SESSION_TTL_MS } from '../../services/users.js';
import { actorOf, SESSION_COOKIE } from '../plugins/auth.js';

/** Attempts per address and user name before `POST /session` answers 429. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

/** UI login, logout and password change. */
export function sessionRoutes(app: FastifyInstance, { users }: Pick<Services, 'users'>): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/session', {
    config: {
      auth: 'public',
      rateLimit: {
        max: LOGIN_ATTEMPTS_PER_MINUTE,
        timeWindow: 60_000,
        hook: 'preHandler',
        // Per address and user name: one attacker cannot lock the admin out from elsewhere.
        keyGenerator: (req: FastifyRequest) => {
          const body = req.body as { username?: unknown } | undefined;
          return `${req.ip}|${typeof body?.username === 'string' ? body.username.slice(0, 100) : ''}`;
        },
      },
    },
    schema: {
      tags: ['session'],
      summary: 'Sign in; sets the session cookie and returns the CSRF token',
      security: [],
      body: LoginBody,
      response: {
        200: SessionResponse,
        ...errorResponses(401, 429),
        ...validationErrors,
      },
    },
    handler: async (req, reply) => {
      const session = await users.login(req.body);
      reply.setCookie(SESSION_COOKIE, session.token, {
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
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
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
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
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  });
}
