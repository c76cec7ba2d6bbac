/**
 * The request bodies of the mail server routes (DESIGN §8), one TypeBox schema each, the
 * TypeScript types derived from them. Field rules that span fields (what applies to which
 * protocol and authentication method) are the mail server service's.
 */
import { type Static, Type } from '@sinclair/typebox';
import { MailProtocols, MailSecurities } from './endpoint.js';
import { SASL_MECHANISMS } from './sasl.js';

/** A DNS name (RFC 1123 §2.1 labels, optional final dot), an IPv4 or an IPv6 literal. */
export const MAIL_HOST_PATTERN =
  '^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$';

/** What a processed incoming message becomes (the mail handler's concern, stored here). */
export const ProcessedActions = ['seen', 'move', 'delete'] as const;
export type ProcessedAction = (typeof ProcessedActions)[number];

const literals = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

const Authentication = Type.Object(
  {
    method: literals(
      ['oauth2', 'password'] as const,
      'oauth2 (a connection of a link) or password',
    ),
    connectionId: Type.String({
      format: 'uuid',
      maxLength: 36,
      description:
        "The connection whose token is used; default: the link's connection of the username",
    }),
    linkId: Type.String({
      format: 'uuid',
      maxLength: 36,
      description: 'The link whose connection for the username is used',
    }),
    password: Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only' }),
  },
  { additionalProperties: false },
);

const mailServerFields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique name' }),
  protocol: literals(MailProtocols, 'imap, pop3 or smtp'),
  host: Type.String({ minLength: 1, maxLength: 253, pattern: MAIL_HOST_PATTERN }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  security: literals(
    MailSecurities,
    'tls (default), starttls, or none (a plain connection, only when chosen)',
  ),
  username: Type.String({
    minLength: 1,
    maxLength: 320,
    pattern: '^[^\\x00-\\x20\\x7f]+$',
    description: 'The mailbox: IMAP/POP3 user, SMTP sender',
  }),
  saslMechanism: Type.Union([literals(SASL_MECHANISMS, 'XOAUTH2 or OAUTHBEARER'), Type.Null()]),
  folder: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
  pollIntervalSeconds: Type.Integer({ minimum: 30, maximum: 86_400 }),
  processedAction: literals(ProcessedActions, 'seen, move or delete'),
  processedFolder: Type.Union([
    Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' }),
    Type.Null(),
  ]),
};

/** Body of `POST /api/v1/mail-servers`. */
export const CreateMailServerBody = Type.Object(
  {
    name: mailServerFields.name,
    protocol: mailServerFields.protocol,
    host: mailServerFields.host,
    port: Type.Optional(mailServerFields.port),
    security: Type.Optional(mailServerFields.security),
    username: mailServerFields.username,
    authentication: Type.Object(
      {
        method: Authentication.properties.method,
        connectionId: Type.Optional(Authentication.properties.connectionId),
        linkId: Type.Optional(Authentication.properties.linkId),
        password: Type.Optional(Authentication.properties.password),
      },
      { additionalProperties: false },
    ),
    saslMechanism: Type.Optional(mailServerFields.saslMechanism),
    folder: Type.Optional(mailServerFields.folder),
    pollIntervalSeconds: Type.Optional(mailServerFields.pollIntervalSeconds),
    processedAction: Type.Optional(mailServerFields.processedAction),
    processedFolder: Type.Optional(mailServerFields.processedFolder),
  },
  { additionalProperties: false },
);
export type CreateMailServerInput = Static<typeof CreateMailServerBody>;

/** Body of `PATCH /api/v1/mail-servers/:id`: any subset; `authentication` is replaced whole. */
export const UpdateMailServerBody = Type.Partial(CreateMailServerBody, {
  additionalProperties: false,
});
export type UpdateMailServerInput = Static<typeof UpdateMailServerBody>;

/** Body of `POST /api/v1/mail-servers/:id/test`. */
export const TestMailServerBody = Type.Object(
  {
    to: Type.String({
      minLength: 3,
      maxLength: 320,
      pattern: '^[^\\s@<>()",;:\\\\]+@[^\\s@<>()",;:\\\\]+$',
      description: 'Outgoing servers: where the test message goes (default: the username)',
    }),
  },
  { additionalProperties: false },
);
export type TestMailServerInput = Partial<Static<typeof TestMailServerBody>>;
