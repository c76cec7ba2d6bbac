/**
 * 12. Each mail server that authenticates with one of the link's connections: the connection
 * test of src/mail, with the token Outlink holds and never a refresh (diagnose changes
 * nothing), and without a test message.
 */
import type { Cipher } from '../../crypto/cipher.js';
import type { Clock } from '../../domain/clock.js';
import type { MailServerRuntime } from '../../domain/mail-server.js';
import { runConnectionTest } from '../../mail/connection-test.js';
import type { AccessTokenSource, MailClient } from '../../mail/mail-client.js';
import { createConnectionTokensRepository } from '../../store/repositories/connection-tokens.js';
import type { Executor } from '../../store/repositories/transaction.js';
import { notExpired } from '../../tokens/freshness.js';
import { createTokenViews } from '../../tokens/token-views.js';
import type { MailUse } from './stored-checks.js';
import { check, type DiagnosticCheck } from './types.js';

/**
 * The stored access token, as it is: never refreshed, also when a server refused it (then
 * the same token is offered again, and refused again, so the server's words are reported).
 */
export function readOnlyTokenSource(db: Executor, cipher: Cipher): AccessTokenSource {
  const rows = createConnectionTokensRepository(db);
  const views = createTokenViews(cipher);
  return {
    async getAccessToken(connectionId) {
      const row = await rows.find(connectionId);
      if (!row) throw new Error(`connection ${connectionId} is gone`);
      const view = views.view(row);
      return { accessToken: view.accessToken, account: view.account, expiresAt: view.expiresAt };
    },
  };
}

export interface MailCheckDeps {
  readonly db: Executor;
  readonly clock: Clock;
  /** A mail client over `readOnlyTokenSource`. */
  readonly mail: MailClient;
  readonly tokens: AccessTokenSource;
  readonly runtime: (id: string) => Promise<MailServerRuntime>;
}

export async function mailServerChecks(
  deps: MailCheckDeps,
  uses: readonly MailUse[],
): Promise<DiagnosticCheck[]> {
  const rows = createConnectionTokensRepository(deps.db);
  const out: DiagnosticCheck[] = [];
  for (const use of uses) {
    const server = await deps.runtime(use.id);
    const params = {
      server: server.name,
      host: `${server.host}:${server.port}`,
      protocol: server.protocol,
    };
    const row = await rows.find(use.connectionId);
    if (!row?.access_token_enc || !notExpired(row, deps.clock.now())) {
      out.push(check('mail_server', 'warn', 'token_unusable', params, server.name));
      continue;
    }
    const result = await runConnectionTest({ mail: deps.mail, tokens: deps.tokens }, server);
    if (!result.ok) {
      out.push({
        ...check('mail_server', 'fail', 'failed', params, server.name),
        mailTest: result,
      });
      continue;
    }
    out.push(
      server.security === 'none'
        ? check('mail_server', 'warn', 'plain', params, server.name)
        : check('mail_server', 'pass', 'ok', params, server.name),
    );
  }
  return out;
}
