import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  presentMailPreset,
  presentMailServer,
  presentTestResult,
  testMessageWords,
} from '../../presenters/mail-servers.js';
import { presentWarnings } from '../../presenters/warnings.js';
import {
  authErrors,
  ErrorResponse,
  IdParams,
  ListOf,
  PageQuery,
  validationErrors,
} from '../../schemas/common.js';
import {
  CreateMailServerBody,
  MailPreset,
  MailServer,
  MailServerWithWarnings,
  TestMailServerBody,
  TestReport,
  UpdateMailServerBody,
} from '../../schemas/mail-servers.js';
import type { Services } from '../../services/index.js';
import { actorOf } from '../plugins/auth.js';

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
      response: { 200: ListOf(MailServer), ...authErrors, ...validationErrors },
    },
    handler: async (req) => {
      const { items, nextCursor } = await mailServers.list({
        limit: req.query.limit ?? 50,
        cursor: req.query.cursor,
      });
      return { items: items.map(presentMailServer), ...(nextCursor ? { nextCursor } : {}) };
    },
  });

  r.post('/api/v1/mail-servers', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Create an incoming (IMAP, POP3) or outgoing (SMTP) mail server',
      body: CreateMailServerBody,
      response: { 201: MailServerWithWarnings, ...authErrors, ...validationErrors, ...errors(409) },
    },
    handler: async (req, reply) => {
      const { mailServer, warnings } = await mailServers.create(actorOf(req), req.body);
      return reply.status(201).send({
        ...presentMailServer(mailServer),
        warnings: presentWarnings(req.locale, warnings),
      });
    },
  });

  r.get('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Show a mail server',
      params: IdParams,
      response: { 200: MailServer, ...authErrors, ...errors(404) },
    },
    handler: async (req) => presentMailServer(await mailServers.get(req.params.id)),
  });

  r.patch('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Update a mail server; omitted fields keep their values',
      params: IdParams,
      body: UpdateMailServerBody,
      response: {
        200: MailServerWithWarnings,
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
      return { ...presentMailServer(mailServer), warnings: presentWarnings(req.locale, warnings) };
    },
  });

  r.delete('/api/v1/mail-servers/:id', {
    schema: {
      tags: ['mail-servers'],
      summary: 'Delete a mail server (not one that acknowledges the issues of another)',
      params: IdParams,
      response: { 204: Type.Null(), ...authErrors, ...errors(404, 409) },
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
      body: TestMailServerBody,
      response: { 200: TestReport, ...authErrors, ...validationErrors, ...errors(404) },
    },
    // The body is optional: a bare POST tests with the defaults.
    preValidation: async (req) => {
      req.body ??= {};
    },
    handler: async (req) => {
      const { locale } = req;
      const { result } = await mailServers.test(
        actorOf(req),
        req.params.id,
        req.body,
        testMessageWords(locale),
      );
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
        200: Type.Object({ items: Type.Array(MailPreset) }),
        ...authErrors,
        ...validationErrors,
        ...errors(404),
      },
    },
    handler: async (req) => {
      const { presets, cloud } = await mailServers.presets(req.query.linkId);
      return { items: presets.map((preset) => presentMailPreset(preset, cloud)) };
    },
  });
}
