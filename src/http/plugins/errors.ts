import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type ErrorCode, isOutlinkError, OutlinkError } from '../../domain/errors.js';
import { presentErrorBody } from '../../presenters/errors.js';
import { isDatabaseUnavailable } from '../../store/db.js';

/** Fastify's own errors, mapped to catalog codes so clients see one vocabulary. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body_malformed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body_malformed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'body_malformed',
  FST_ERR_VALIDATION: 'field_invalid',
};

/**
 * One error handler for the whole app: catalog errors as they are, Fastify's parser errors
 * translated, anything else a 500 whose body says nothing internal while the log says all.
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((raw: FastifyError | OutlinkError, request, reply) => {
      if (isOutlinkError(raw)) {
        if (raw.status >= 500) request.log.error({ err: raw }, 'request failed');
        return sendError(request, reply, raw);
      }
      const mapped = raw.code ? FASTIFY_CODES[raw.code] : undefined;
      if (mapped === 'body_too_large') {
        return sendError(
          request,
          reply,
          new OutlinkError(mapped, { limit: app.initialConfig.bodyLimit ?? 0 }),
        );
      }
      if (mapped === 'field_invalid') {
        return sendError(
          request,
          reply,
          new OutlinkError(mapped, { field: 'body', problem: raw.message }),
        );
      }
      if (mapped) return sendError(request, reply, new OutlinkError(mapped));
      if (raw.statusCode === 429) {
        const retryAfter = Number(reply.getHeader('retry-after') ?? 60);
        return sendError(request, reply, new OutlinkError('rate_limited', { retryAfter }));
      }
      if (raw.statusCode && raw.statusCode >= 400 && raw.statusCode < 500) {
        request.log.info({ err: raw }, 'client error');
        return sendError(request, reply, new OutlinkError('body_malformed'));
      }
      if (isDatabaseUnavailable(raw)) {
        // Issue 14: PostgreSQL away is the database's state, not a bug: a 503 that says so
        // and when to try again, at once (the pool does not queue behind a dead server).
        request.log.warn({ err: raw }, 'database unavailable');
        return sendError(
          request,
          reply,
          new OutlinkError('database_unavailable', { retryAfter: 5 }),
        );
      }
      request.log.error({ err: raw }, 'unhandled error');
      return sendError(request, reply, new OutlinkError('internal'));
    });
    app.setNotFoundHandler((request, reply) =>
      sendError(request, reply, new OutlinkError('not_found')),
    );
  },
  { name: 'outlink-errors', fastify: '5.x', dependencies: ['outlink-locale'] },
);

/** Answers an `OutlinkError` as `{error: {code, message, remedy}}` in the request's language. */
function sendError(request: FastifyRequest, reply: FastifyReply, error: OutlinkError) {
  // RFC 9110 §10.2.3: a 429 or 503 says when to come back, when Outlink knows.
  if (error.params.retryAfter !== undefined && (error.status === 429 || error.status === 503)) {
    reply.header('retry-after', String(error.params.retryAfter));
  }
  return reply
    .status(error.status)
    .type('application/json')
    .send(presentErrorBody(request.locale, error, request.id));
}
