/**
 * The mail server resource's API shapes (DESIGN §8), one TypeBox schema each, the TypeScript
 * types derived from them: the request bodies, a mail server as it is shown, a connection
 * test's report and a preset. The settled fields are `MailServerFields` of the domain; the
 * rules that span fields (what applies to which protocol and authentication method) are
 * `domain/mail-server.ts`'s.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { HANDLER_DEFAULTS, MAX_MESSAGE_BYTES } from '../domain/mail-handler-settings.js';
import {
  MailAuthMethods,
  MailProtocols,
  MailSecurities,
  MailServerFields,
  MailSteps,
  ProcessedActions,
  SASL_MECHANISMS,
} from '../domain/mail-server.js';
import { MailPresetIds } from '../providers/mail-preset.js';
import { ProviderIds } from '../providers/types.js';
import { Warnings } from './common.js';

/** A DNS name (RFC 1123 §2.1 labels, optional final dot), an IPv4 or an IPv6 literal. */
export const MAIL_HOST_PATTERN =
  '^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$';

const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A folder name: no control characters. */
const Folder = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]+$' });

/** An e-mail address, plausibly (`local@domain`, no spaces, no display name). */
const MAIL_ADDRESS_PATTERN = '^[^\\s@<>()",;:\\\\]+@[^\\s@<>()",;:\\\\]+$';
const MailAddress = (description: string) =>
  Type.String({ minLength: 3, maxLength: 320, pattern: MAIL_ADDRESS_PATTERN, description });

/**
 * The mail handler's settings in a request (incoming servers only; the rules are
 * `domain/mail-handler-settings.ts`'s). A lower-case key prefix is accepted and upper-cased.
 */
const HandlerSettingsBody = {
  handlerEnabled: Type.Optional(
    Type.Boolean({
      description: `Turn this mailbox's mail into issues and comments (default ${HANDLER_DEFAULTS.handlerEnabled}: paused)`,
    }),
  ),
  issueKeyPrefix: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 10,
      pattern: '^[A-Za-z][A-Za-z0-9_]*$',
      description: `Key prefix of its issues (default ${HANDLER_DEFAULTS.issueKeyPrefix}: MAIL-12); upper-cased`,
    }),
  ),
  defaultReporter: Type.Optional(
    Type.Union([
      MailAddress('The reporter of a message without a usable sender; null: none'),
      Type.Null(),
    ]),
  ),
  maxMessageBytes: Type.Optional(
    Type.Integer({
      ...MAX_MESSAGE_BYTES,
      description: `Larger messages are kept on the server and recorded as failed (default ${HANDLER_DEFAULTS.maxMessageBytes})`,
    }),
  ),
  acknowledgeWith: Type.Optional(
    Type.Union([
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description: 'The id of the outgoing (SMTP) mail server that acknowledges new issues',
      }),
      Type.Null(),
    ]),
  ),
  errorFolder: Type.Optional(
    Type.Union([Folder, Type.Null()], {
      description:
        'IMAP: where messages that cannot be handled are moved; null: left unread in place',
    }),
  ),
};

/** Body of `POST /api/v1/mail-servers`. */
export const CreateMailServerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'Unique name' }),
    protocol: literals(MailProtocols, 'imap, pop3 or smtp'),
    host: Type.String({ minLength: 1, maxLength: 253, pattern: MAIL_HOST_PATTERN }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    security: Type.Optional(
      literals(
        MailSecurities,
        'tls (default), starttls, or none (a plain connection, only when chosen)',
      ),
    ),
    username: Type.String({
      minLength: 1,
      maxLength: 320,
      pattern: '^[^\\x00-\\x20\\x7f]+$',
      description: 'The mailbox: IMAP/POP3 user, SMTP sender',
    }),
    authentication: Type.Object(
      {
        method: literals(MailAuthMethods, 'oauth2 (a connection of a link) or password'),
        connectionId: Type.Optional(
          Type.String({
            format: 'uuid',
            maxLength: 36,
            description:
              "The connection whose token is used; default: the link's connection of the username",
          }),
        ),
        linkId: Type.Optional(
          Type.String({
            format: 'uuid',
            maxLength: 36,
            description: 'The link whose connection for the username is used',
          }),
        ),
        password: Type.Optional(
          Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only' }),
        ),
      },
      { additionalProperties: false },
    ),
    saslMechanism: Type.Optional(
      Type.Union([literals(SASL_MECHANISMS, 'XOAUTH2 or OAUTHBEARER'), Type.Null()]),
    ),
    folder: Type.Optional(Folder),
    pollIntervalSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 86_400 })),
    processedAction: Type.Optional(literals(ProcessedActions, 'seen, move or delete')),
    processedFolder: Type.Optional(Type.Union([Folder, Type.Null()])),
    ...HandlerSettingsBody,
  },
  { additionalProperties: false },
);
export type CreateMailServerInput = Static<typeof CreateMailServerBody>;

/** Body of `PATCH /api/v1/mail-servers/:id`: any subset; `authentication` is replaced whole. */
export const UpdateMailServerBody = Type.Partial(CreateMailServerBody, {
  additionalProperties: false,
});
export type UpdateMailServerInput = Static<typeof UpdateMailServerBody>;

/** Body of `POST /api/v1/mail-servers/:id/test`; optional, as every field of it. */
export const TestMailServerBody = Type.Object(
  {
    to: Type.Optional(
      MailAddress('Outgoing servers: where the test message goes (default: the username)'),
    ),
  },
  { additionalProperties: false },
);
export type TestMailServerInput = Static<typeof TestMailServerBody>;

/** How a mail server authenticates, as the API shows it: never the password, never a token. */
export const MailServerAuthentication = Type.Union([
  Type.Object({
    method: Type.Literal('oauth2'),
    linkId: Type.String(),
    linkName: Type.String(),
    connectionId: Type.String(),
    account: Type.String(),
    /** The connection's account differs from the username: a delegate's token. */
    delegated: Type.Boolean(),
  }),
  Type.Object({ method: Type.Literal('password'), passwordSet: Type.Boolean() }),
]);
export type MailServerAuthenticationView = Static<typeof MailServerAuthentication>;

/** A mail server as the API, the CLI and the UI show it: the password only as `passwordSet`. */
export const MailServer = Type.Object({
  id: Type.String(),
  ...MailServerFields.properties,
  authentication: MailServerAuthentication,
  /** The name of the mail server `acknowledgeWith` names. */
  acknowledgeWithName: Nullable(Type.String()),
  /** The provider preset the host belongs to (Gmail, Exchange Online), if any. */
  preset: Nullable(literals(MailPresetIds)),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type MailServerView = Static<typeof MailServer>;

/** A created or updated mail server, with what deserves attention in its settings. */
export const MailServerWithWarnings = Type.Object({
  ...MailServer.properties,
  warnings: Type.Optional(Warnings),
});

/** A connection test's result in words (DESIGN §8: `{ok, steps: [{name, ok, detail}], error?}`). */
export const TestReport = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(
    Type.Object({
      name: literals(MailSteps),
      /** The step's name in words, e.g. "Greeting and capabilities". */
      label: Type.String(),
      ok: Type.Boolean(),
      detail: Type.String(),
    }),
  ),
  error: Type.Optional(
    Type.Object({
      step: literals(MailSteps),
      code: Type.String(),
      message: Type.String(),
      remedy: Type.String(),
      /** What the server said, verbatim (not ours: shown as data). */
      serverResponse: Type.Optional(Type.String()),
      /** The server's response code (IMAP, POP3 RFC 2449) or SMTP reply code, verbatim. */
      serverCode: Type.Optional(Type.String()),
      /** The error catalog's entry for the server's answer, and what it means. */
      refusal: Type.Optional(Type.String()),
      cause: Type.Optional(Type.String()),
      /** The server's decoded RFC 7628 §3.2.2 error challenge. */
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
export type TestReport = Static<typeof TestReport>;
export type TestReportStep = TestReport['steps'][number];

const PresetServers = Type.Array(
  Type.Object({ host: Type.String(), port: Type.Integer(), security: literals(MailSecurities) }),
);
const PerProtocol = <T extends TSchema>(schema: T) =>
  Type.Object({ imap: schema, pop3: schema, smtp: schema });

/** A preset as the API shows it: servers per protocol and the scopes each protocol needs. */
export const MailPreset = Type.Object({
  id: literals(MailPresetIds),
  provider: literals(ProviderIds),
  name: Type.String(),
  servers: PerProtocol(PresetServers),
  scopes: PerProtocol(Type.Array(Type.String())),
});
export type MailPresetView = Static<typeof MailPreset>;
