import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import { translate } from '../../i18n/i18n.js';
import type { Services } from '../../main/compose.js';
import { authErrors, ErrorResponse, IdParams, validationErrors } from '../../schemas/common.js';
import type { FlowOutcome } from '../../services/authorizations.js';
import { renderCallbackPage } from '../../ui/callback-page.js';
import { presentFlowOutcome } from '../../ui/presenters.js';
import { localeOf } from '../locale.js';
import { actorOf } from '../plugins/auth.js';

const FlowError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  remedy: Type.String(),
  providerError: Type.Optional(Type.String()),
  providerDescription: Type.Optional(Type.String()),
});

const FlowResponse = Type.Object({
  flowId: Type.String(),
  linkId: Type.String(),
  status: Type.String(),
  connectionId: Type.Optional(Type.String()),
  error: Type.Optional(FlowError),
});

const StartBody = Type.Object(
  {
    connectionId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    accountLabel: Type.Optional(Type.String({ minLength: 1, maxLength: 320, pattern: '\\S' })),
  },
  { additionalProperties: false },
);

/** A flow's outcome with the failure's cause and remedy in the request's language. */
export function presentFlow(request: FastifyRequest, outcome: FlowOutcome) {
  return presentFlowOutcome(localeOf(request), outcome);
}

/** Starting the dance (DESIGN §6), reading its outcome, and the provider's redirect back. */
export function authorizationRoutes(app: FastifyInstance, { flows }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/links/:id/authorizations', {
    schema: {
      tags: ['authorizations'],
      summary: 'Start an authorization; send the browser to authorizationUrl',
      params: IdParams,
      body: Type.Optional(StartBody),
      response: {
        201: Type.Object({ flowId: Type.String(), authorizationUrl: Type.String() }),
        ...authErrors,
        ...validationErrors,
        404: Type.Ref(ErrorResponse),
        409: Type.Ref(ErrorResponse),
      },
    },
    handler: async (req, reply) => {
      const started = await flows.start(actorOf(req), req.params.id, {
        connectionId: req.body?.connectionId,
        accountLabel: req.body?.accountLabel,
        sessionToken: req.sessionToken,
      });
      return reply.status(201).send(started);
    },
  });

  r.get('/api/v1/authorizations/:id', {
    schema: {
      tags: ['authorizations'],
      summary: "An authorization's outcome: pending, succeeded or failed",
      params: IdParams,
      response: { 200: FlowResponse, ...authErrors, 404: Type.Ref(ErrorResponse) },
    },
    handler: async (req) => presentFlow(req, await flows.get(req.params.id)),
  });

  // The redirect URL registered at the provider: public, since the browser arrives here from
  // the provider; the single-use state (and the session binding) authenticates it.
  r.get('/oauth2/callback/:suffix', {
    config: { auth: 'public' },
    schema: {
      hide: true,
      params: Type.Object({ suffix: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }) }),
      querystring: Type.Record(Type.String(), Type.String()),
    },
    handler: async (req, reply) => {
      const locale = localeOf(req);
      const parameters = new URLSearchParams(req.query as Record<string, string>);
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      try {
        const outcome = await flows.complete(
          req.params.suffix,
          parameters,
          req.cookies.outlink_session,
        );
        const page = renderCallbackPage(locale, presentFlow(req, outcome), outcome.account);
        return reply
          .status(outcome.status === 'succeeded' ? 200 : 400)
          .type('text/html; charset=utf-8')
          .send(page);
      } catch (error) {
        if (!(error instanceof OutlinkError) || error.status >= 500) throw error;
        const page = renderCallbackPage(locale, {
          status: 'failed',
          error: {
            code: error.code,
            message: translate(locale, `errors.${error.code}.message`, error.params),
            remedy: translate(locale, `errors.${error.code}.remedy`, error.params),
          },
        });
        return reply.status(error.status).type('text/html; charset=utf-8').send(page);
      }
    },
  });
}
