import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import type { Locale } from '../../i18n/i18n.js';
import { presentError } from '../../presenters/errors.js';
import { presentFlowOutcome } from '../../presenters/flows.js';
import { ownerCallbackView } from '../../presenters/reauthorizations.js';
import {
  CallbackParams,
  CallbackQuery,
  FlowResponse,
  StartAuthorizationBody,
  StartedAuthorization,
} from '../../schemas/authorizations.js';
import { authErrors, errorResponses, IdParams, validationErrors } from '../../schemas/common.js';
import { flowBindingCookie, type OpenedStart, START_PATH } from '../../services/authorizations.js';
import type { Services } from '../../services/index.js';
import { renderCallbackPage } from '../../ui/callback-page.js';
import { actorOf, SESSION_COOKIE } from '../plugins/auth.js';

/** Starting the dance (DESIGN §6), reading its outcome, and the provider's redirect back. */
export function authorizationRoutes(
  app: FastifyInstance,
  { flows, reauthorizations }: Pick<Services, 'flows' | 'reauthorizations'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/links/:id/authorizations', {
    schema: {
      tags: ['authorizations'],
      summary: 'Start an authorization; send the browser to authorizationUrl',
      params: IdParams,
      body: Type.Optional(StartAuthorizationBody),
      response: {
        201: StartedAuthorization,
        ...authErrors,
        ...validationErrors,
        ...errorResponses(404, 409),
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
      response: { 200: FlowResponse, ...authErrors, ...errorResponses(404) },
    },
    handler: async (req) => presentFlowOutcome(req.locale, await flows.get(req.params.id)),
  });

  // Issue 11: the one-time start URL of a flow started without a browser session (API token,
  // CLI). Public: its secret authenticates it.
  r.get(`${START_PATH}:secret`, {
    config: { auth: 'public' },
    schema: { hide: true, params: Type.Object({ secret: Type.String({ maxLength: 100 }) }) },
    handler: (req, reply) =>
      openStartUrl(req.locale, reply, () => flows.openStart(req.params.secret)),
  });

  // The redirect URL registered at the provider: public, since the browser arrives here from
  // the provider; the single-use state (and the session binding) authenticates it.
  r.get('/oauth2/callback/:suffix', {
    config: { auth: 'public' },
    schema: { hide: true, params: CallbackParams, querystring: CallbackQuery },
    handler: async (req, reply) => {
      const { locale } = req;
      const parameters = new URLSearchParams(req.query as Record<string, string>);
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      try {
        const outcome = await flows.complete(req.params.suffix, parameters, {
          sessionToken: req.cookies[SESSION_COOKIE],
          flowBinding: (flowId) => req.cookies[flowBindingCookie(flowId)],
        });
        if (outcome.status === 'succeeded' || outcome.error) {
          // The binding has served its purpose (or been refused): the browser forgets it.
          reply.clearCookie(flowBindingCookie(outcome.flowId), { path: '/', secure: true });
        }
        const view = presentFlowOutcome(locale, outcome);
        // Issue 13: the owner who opened a re-authorization link has no way into the admin pages.
        const forOwner = await reauthorizations.startedByLink(outcome.flowId);
        const page = renderCallbackPage(
          locale,
          forOwner ? ownerCallbackView(locale, outcome, view) : view,
          outcome.account,
        );
        const refused = outcome.error?.id === 'authorization_not_bound';
        return reply
          .status(outcome.status === 'succeeded' ? 200 : refused ? 403 : 400)
          .type('text/html; charset=utf-8')
          .send(page);
      } catch (error) {
        return sendFailurePage(locale, reply, error);
      }
    },
  });
}

/**
 * Opens a one-time start URL (issue 11) or re-authorization link (issue 13): binds the flow
 * to this browser with a short-lived `__Host-` flow cookie — SameSite=Lax, so it comes back
 * with the provider's top-level redirect to the callback — and sends the browser on to the
 * provider; a refusal is an HTML page, since a browser opened the URL.
 */
export async function openStartUrl(
  locale: Locale,
  reply: FastifyReply,
  open: () => Promise<OpenedStart>,
): Promise<FastifyReply> {
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  try {
    const opened = await open();
    const maxAge = Math.max(1, Math.ceil((Date.parse(opened.expiresAt) - Date.now()) / 1000));
    reply.setCookie(flowBindingCookie(opened.flowId), opened.binding, {
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      maxAge,
    });
    return reply.redirect(opened.authorizationUrl, 303);
  } catch (error) {
    return sendFailurePage(locale, reply, error);
  }
}

/** A client error as the callback page a browser is shown; anything else is rethrown. */
function sendFailurePage(locale: Locale, reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof OutlinkError) || error.status >= 500) throw error;
  const { code, message, remedy = '' } = presentError(locale, error);
  const page = renderCallbackPage(locale, { status: 'failed', error: { code, message, remedy } });
  return reply.status(error.status).type('text/html; charset=utf-8').send(page);
}
