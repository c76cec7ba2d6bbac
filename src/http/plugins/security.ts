import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

/**
 * The headers helmet sets with Outlink's options: a Content Security Policy that allows the
 * admin UI's own scripts and stylesheets only (no inline code), no framing, HSTS and the rest
 * of helmet's set. Computed once at startup: helmet's options do not depend on the request,
 * and building its middleware per request cost the token route a twentieth of its CPU
 * (issue 12).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  helmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: { maxAge: 15552000 },
  }),
);

/**
 * The JSON API's answers are never rendered: they keep HSTS, `nosniff` and a policy that
 * forbids loading or framing anything, and leave out the page headers (cross-origin
 * isolation, referrer, download and DNS-prefetch controls) that only a document uses.
 * Routes add their own (`cache-control: no-store` on tokens; attachments their sandbox).
 */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'strict-transport-security': PAGE_HEADERS['strict-transport-security']!,
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
});

/** Security headers on every answer: the page set, or the API's smaller one under /api/v1/. */
export const securityPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(request.url.startsWith('/api/v1/') ? API_HEADERS : PAGE_HEADERS);
      done();
    });
  },
  { name: 'outlink-security', fastify: '5.x' },
);

/** Runs helmet once against a response that records what it sets. */
function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader() {},
  };
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}
