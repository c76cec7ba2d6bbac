/**
 * Mail servers as the API, the CLI and the UI show them (DESIGN §8): a mail server with its
 * password only as `passwordSet` and its connection's link, a preset with the scopes its
 * protocols need, and a connection test's result in words, in one language.
 */
import { type Locale, translate } from '../i18n/i18n.js';
import type { TestResult } from '../mail/connection-test.js';
import type { MailServerPreset } from '../providers/mail-preset.js';
import { neededScopes, presetOfHost } from '../providers/mail-registry.js';
import type { MicrosoftCloud } from '../providers/types.js';
import type {
  MailPresetView,
  MailServerAuthenticationView,
  MailServerView,
  TestReport,
} from '../schemas/mail-servers.js';
import type { MailServerEntry, TestMessageWords } from '../services/mail-servers.js';

/** A stored mail server as the API shows it, with its connection when it has one. */
export function presentMailServer(entry: MailServerEntry): MailServerView {
  const { connection, authMethod, connectionId, hasPassword, ...fields } = entry;
  const authentication: MailServerAuthenticationView =
    authMethod === 'oauth2'
      ? {
          method: 'oauth2',
          linkId: connection?.linkId ?? '',
          linkName: connection?.linkName ?? '',
          connectionId: connectionId ?? '',
          account: connection?.account ?? '',
          delegated: connection
            ? connection.account.toLowerCase() !== entry.username.toLowerCase()
            : false,
        }
      : { method: 'password', passwordSet: hasPassword };
  return { ...fields, authentication, preset: presetOfHost(entry.host)?.id ?? null };
}

/** A preset as the API shows it, with the scopes of its provider in the link's cloud. */
export function presentMailPreset(
  preset: MailServerPreset,
  linkCloud: MicrosoftCloud,
): MailPresetView {
  // A preset of one cloud shows that cloud's scopes when listed without a link.
  const cloud =
    preset.clouds && !preset.clouds.includes(linkCloud)
      ? (preset.clouds[0] ?? linkCloud)
      : linkCloud;
  return {
    id: preset.id,
    provider: preset.provider,
    name: preset.name,
    servers: {
      imap: preset.servers.imap.map((s) => ({ ...s })),
      pop3: preset.servers.pop3.map((s) => ({ ...s })),
      smtp: preset.servers.smtp.map((s) => ({ ...s })),
    },
    scopes: {
      imap: neededScopes(preset.provider, cloud, 'imap'),
      pop3: neededScopes(preset.provider, cloud, 'pop3'),
      smtp: neededScopes(preset.provider, cloud, 'smtp'),
    },
  };
}

/** The test message of an outgoing server in `locale` (`mail.testMessage` in the catalogs). */
export function testMessageWords(locale: Locale): TestMessageWords {
  return (server) => ({
    subject: translate(locale, 'mail.testMessage.subject', { name: server.name }),
    text: translate(locale, 'mail.testMessage.text', {
      name: server.name,
      host: server.host,
      username: server.username,
    }),
  });
}

/** Puts a test result into words; the failed step's detail is the error's message. */
export function presentTestResult(locale: Locale, result: TestResult): TestReport {
  const failure = result.error;
  const error = failure
    ? {
        step: failure.step,
        code: failure.code,
        message: translate(locale, `${catalogOf(failure.catalog)}.${failure.code}.message`, {
          ...failure.params,
        }),
        remedy: failure.remedy
          ? translate(locale, `mail.remedies.${failure.remedy.id}`, failure.remedy.params)
          : translate(locale, `${catalogOf(failure.catalog)}.${failure.code}.remedy`, {
              ...failure.params,
            }),
        ...(failure.serverResponse ? { serverResponse: failure.serverResponse } : {}),
        ...(failure.serverCode ? { serverCode: failure.serverCode } : {}),
        ...(failure.refusal
          ? {
              refusal: failure.refusal,
              cause: translate(locale, `mail.refusals.${failure.refusal}`),
            }
          : {}),
        ...(failure.challenge
          ? {
              challenge: {
                status: failure.challenge.status,
                ...(failure.challenge.scope !== undefined
                  ? { scope: failure.challenge.scope }
                  : {}),
                ...(failure.challenge.schemes !== undefined
                  ? { schemes: failure.challenge.schemes }
                  : {}),
              },
            }
          : {}),
      }
    : undefined;
  return {
    ok: result.ok,
    steps: result.steps.map((step) => ({
      name: step.name,
      label: translate(locale, `mail.steps.${step.name}`),
      ok: step.ok,
      detail:
        step.ok || !error
          ? translate(locale, `mail.details.${step.detail.key}`, step.detail.params)
          : error.message,
    })),
    ...(error ? { error } : {}),
  };
}

function catalogOf(catalog: 'mail' | 'errors'): string {
  return catalog === 'mail' ? 'mail.errors' : 'errors';
}
