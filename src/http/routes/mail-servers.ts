import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  CreateMailServerBody,
  TestMailServerBody,
  UpdateMailServerBody,
} from '../../mail/mail-server-body.js';
import { presentTestResult } from '../../mail/test-report.js';
import { presentWarnings } from '../../presenters/warnings.js';
import {
  authErrors,
  ErrorResponse,
  IdParams,
  ListOf,
  PageQuery,
  validationErrors,
  Warnings,
} from '../../schemas/common.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Authentication = Type.Union([
  Type.Object({
    method: Type.Literal('oauth2'),
    linkId: Type.String(),
    linkName: Type.String(),
    connectionId: Type.String(),
    account: Type.String(),
    delegated: Type.Boolean(),
  }),
  Type.Object({ method: Type.Literal('password'), passwordSet: Type.Boolean() }),
]);

/** A mail server as the API returns it: the password only as `passwordSet`. */
const MailServerResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  protocol: Type.String(),
  host: Type.String(),
  port: Type.Integer(),
  security: Type.String(),
  username: Type.String(),
  authentication: Authentication,
  saslMechanism: Nullable(Type.String()),
  folder: Nullable(Type.String()),
  pollIntervalSeconds: Nullable(Type.Integer()),
  processedAction: Nullable(Type.String()),
  processedFolder: Nullable(Type.String()),
  preset: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  warnings: Type.Optional(Warnings),
});

const TestResponse = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(
    Type.Object({
      name: Type.String(),
      label: Type.String(),
      ok: Type.Boolean(),
      detail: Type.String(),
    }),
  ),
  error: Type.Optional(
    Type.Object({
      step: Type.String(),
      code: Type.String(),
      message: Type.String(),
      remedy: Type.String(),
      serverResponse: Type.Optional(Type.String()),
      challenge: Type.Optional(
        Type.Object({
          status: Type.String(),
          scope: Type.Optional(Type.String()),
          schemes: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
});

const ServerList = Type.Array(
  Type.Object({ host: Type.String(), port: Type.Integer(), security: Type.String() }),
);
const PerProtocol = <T extends TSchema>(schema: T) =>
  Type.Object({ imap: schema, pop3: schema, smtp: schema });
const PresetResponse = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  name: Type.String(),
  servers: PerProtocol(ServerList),
  scopes: PerProtocol(Type.Array(Type.String())),
});

const errors = (...codes: (404 | 409)[]) =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref(ErrorResponse)]));

/** Mail servers (DESIGN §8): CRUD, the connection test, and the provider presets. */
export function mailServerRoutes(
  app: FastifyInstance,
  { mailServers }: Pick<Services, 'mailServers'>,
): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/mail-servers', {
    schema: {
      tags: ['mail-servers'],
      summary: 'List mail servers',
      querystring: PageQuery,
      response: { 200: ListOf(MailServerResponse), ...authErrors, ...validationErrors },
    },
    handler: (req) => mailServers.list({ limit: req.query.limit ?? 50, cursor: req.query.cursor }),
  });

  r.post('/api/v1/mail-servers', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Create an incoming (IMAP, POP3) or outgoing (SMTP) mail server',
      body: CreateMailServerBody,
      response: { 201: MailServerResponse, ...authErrors, ...validationErrors, ...errors(409) },
    },
    handler: async (req, reply) => {
      const { mailServer, warnings } = await mailServers.create(actorOf(req), req.body);
      return reply
        .status(201)
        .send({ ...mailServer, warnings: presentWarnings(req.locale, warnings) });
    },
  });

  r.get('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Show a mail server',
      params: IdParams,
      response: { 200: MailServerResponse, ...authErrors, ...errors(404) },
    },
    handler: (req) => mailServers.get(req.params.id),
  });

  r.patch('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Update a mail server; omitted fields keep their values',
      params: IdParams,
      body: UpdateMailServerBody,
      response: {
        200: MailServerResponse,
        ...authErrors,
        ...validationErrors,
        ...errors(404, 409),
      },
    },
    handler: async (req) => {
      const { mailServer, warnings } = await mailServers.update(
        actorOf(req),
        req.params.id,
        req.body,
      );
      return { ...mailServer, warnings: presentWarnings(req.locale, warnings) };
    },
  });

  r.delete('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Delete a mail server',
      params: IdParams,
      response: { 204: Type.Null(), ...authErrors, ...errors(404) },
    },
    handler: async (req, reply) => {
      await mailServers.remove(actorOf(req), req.params.id);
      return reply.status(204).send(null);
    },
  });

  r.post('/api/v1/mail-servers/:id/test', {
    schema: {
      tags: ['mail-servers'],
      summary:
        'Test the connection step by step: connect, TLS, greeting, token, authentication, folder or send',
      params: IdParams,
      body: Type.Partial(TestMailServerBody, { additionalProperties: false }),
      response: { 200: TestResponse, ...authErrors, ...validationErrors, ...errors(404) },
    },
    // The body is optional: a bare POST tests with the defaults.
    preValidation: async (req) => {
      req.body ??= {};
    },
    handler: async (req) => {
      const { locale } = req;
      const { result } = await mailServers.test(actorOf(req), req.params.id, req.body, locale);
      return presentTestResult(locale, result);
    },
  });

  r.get('/api/v1/mail-server-presets', {
    schema: {
      tags: ['mail-servers'],
      summary: "Mail server presets (Gmail, Exchange Online), or those of a link's provider",
      querystring: Type.Object(
        { linkId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ items: Type.Array(PresetResponse) }),
        ...authErrors,
        ...validationErrors,
        ...errors(404),
      },
    },
    handler: async (req) => ({ items: await mailServers.presets(req.query.linkId) }),
  });
}
