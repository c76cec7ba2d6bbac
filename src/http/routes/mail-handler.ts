import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentHandlerStatus } from '../../presenters/mail-handler.js';
import { authErrors, ErrorResponse, IdParams, validationErrors } from '../../schemas/common.js';
import { HandlerStatus, PollResult } from '../../schemas/mail-handler.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

const errors = (...codes: (404 | 409 | 502 | 503)[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)]));

/** The mail handler of an incoming mail server (DESIGN §8): run it now, see where it stands. */
export function mailHandlerRoutes(
  app: FastifyInstance,
  { mailHandler }: Pick<Services, 'mailHandler'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/mail-servers/:id/poll', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Run the mail handler now: new email becomes issues and comments',
      params: IdParams,
      response: {
        200: PollResult,
        ...authErrors,
        ...validationErrors,
        ...errors(404, 409, 502, 503),
      },
    },
    handler: async (req) => mailHandler.poll(actorOf(req), req.params.id),
  });

  r.get('/api/v1/mail-servers/:id/handler', {
    schema: {
      tags: ['mail-servers'],
      summary:
        "Where the mail handler of an incoming mail server stands: its last run's outcome and counts",
      params: IdParams,
      response: { 200: HandlerStatus, ...authErrors, ...validationErrors, ...errors(404) },
    },
    handler: async (req) =>
      presentHandlerStatus(req.locale, await mailHandler.status(req.params.id)),
  });
}
