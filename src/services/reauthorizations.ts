import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { hashToken } from '../crypto/tokens.js';
import { type Actor, actorLabel } from '../domain/actor.js';
import type { Clock } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import type { MailClient } from '../mail/mail-client.js';
import { asOutlinkError } from '../mail/mail-error.js';
import { createConnectionRepository } from '../store/repositories/connections.js';
import {
  createInvitationRepository,
  type InvitationRecord,
} from '../store/repositories/reauthorization-invitations.js';
import { type Executor, inTransaction } from '../store/repositories/transaction.js';
import { type AuthorizationFlows, type OpenedStart, START_PATH } from './authorizations.js';
import type { EventService } from './events.js';
import type { MailServerService } from './mail-servers.js';

/** The path of a re-authorization link, below the base URL; its secret follows. */
export const REAUTHORIZE_PATH = '/oauth2/reauthorize/';

/** How long a re-authorization link lives: a day unless asked otherwise, within bounds. */
export const REAUTHORIZATION_HOURS = Object.freeze({ default: 24, min: 1, max: 168 });

/** Where a re-authorization link is in its life. */
export type InvitationStatus = 'active' | 'used' | 'expired' | 'revoked';

/** A re-authorization link as shown: never its secret. */
export interface InvitationView {
  readonly id: string;
  readonly connectionId: string;
  readonly status: InvitationStatus;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
  readonly revokedAt: string | null;
  readonly emailedTo: string | null;
  readonly flowId: string | null;
}

/** The words of the email that carries a link, in the owner's language. */
export type InvitationWords = (
  locale: 'en' | 'ja',
  data: { readonly account: string; readonly url: string; readonly expiresAt: string },
) => { readonly subject: string; readonly text: string };

export interface CreateInvitationInput {
  /** Lifetime in hours, `REAUTHORIZATION_HOURS.min`…`max` (default a day). */
  readonly expiresInHours?: number;
  /** Email the link through an outgoing mail server (id or name). */
  readonly email?: {
    readonly mailServer: string;
    /** The recipient; the connection's account by default. */
    readonly to?: string;
    readonly locale: 'en' | 'ja';
  };
}

export interface CreatedInvitation {
  readonly invitation: InvitationView;
  /** The link itself, with its secret: returned this once, never stored or shown again. */
  readonly url: string;
}

/**
 * Re-authorization without a console (issue 13): an administrator makes a one-time link for
 * one connection; whoever opens it (the mailbox's owner, no Outlink account) runs the dance
 * for exactly that connection, bound to their browser like an API-started flow.
 */
export interface ReauthorizationService {
  /** Makes a link (revoking the connection's earlier active one), and emails it if asked. */
  create(
    actor: Actor,
    connectionId: string,
    input?: CreateInvitationInput,
  ): Promise<CreatedInvitation>;
  /** The connection's links, newest first, without secrets. */
  list(connectionId: string): Promise<InvitationView[]>;
  /** Revokes the connection's active link; how many were revoked (0 or 1). */
  revoke(actor: Actor, connectionId: string): Promise<number>;
  /**
   * Opens a link (its secret from the path), once: starts the flow for its connection and
   * binds it to this browser. 404 `reauthorization_link_invalid` when unknown; 410
   * `reauthorization_link_used`, `_expired` or `_revoked` otherwise.
   */
  open(secret: string): Promise<OpenedStart>;
  /** Whether flow `flowId` was started by a re-authorization link (its callback page differs). */
  startedByLink(flowId: string): Promise<boolean>;
}

export function statusOf(invitation: InvitationRecord, now: string): InvitationStatus {
  if (invitation.revokedAt) return 'revoked';
  if (invitation.usedAt) return 'used';
  return invitation.expiresAt <= now ? 'expired' : 'active';
}

/** The one who made a link, as the flow it starts records them. */
function creatorOf(invitation: InvitationRecord): Actor {
  if (invitation.actorKind === 'user' && invitation.actorId) {
    return { kind: 'user', id: invitation.actorId, name: invitation.actor };
  }
  if (invitation.actorKind === 'api-token' && invitation.actorId) {
    return {
      kind: 'api-token',
      id: invitation.actorId,
      name: invitation.actor.replace(/^api-token:/, ''),
      scopes: [],
      linkIds: [],
      connectionIds: [],
    };
  }
  return invitation.actorKind === 'cli' ? { kind: 'cli' } : { kind: 'system' };
}

const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function createReauthorizationService(deps: {
  db: Executor;
  clock: Clock;
  config: Config;
  events: EventService;
  flows: AuthorizationFlows;
  mailServers: Pick<MailServerService, 'find' | 'runtime'>;
  mail: Pick<MailClient, 'smtp'>;
  words: InvitationWords;
}): ReauthorizationService {
  const { db, clock, config, events } = deps;
  const invitations = createInvitationRepository(db);
  const connections = createConnectionRepository(db);

  const loadConnection = async (id: string) => {
    const connection = await connections.findById(id);
    if (!connection) throw new OutlinkError('connection_not_found', { id });
    return connection;
  };

  const view = (invitation: InvitationRecord): InvitationView => ({
    id: invitation.id,
    connectionId: invitation.connectionId,
    status: statusOf(invitation, clock.now().toISOString()),
    createdBy: invitation.actor,
    createdAt: invitation.createdAt,
    expiresAt: invitation.expiresAt,
    usedAt: invitation.usedAt,
    revokedAt: invitation.revokedAt,
    emailedTo: invitation.emailedTo,
    flowId: invitation.flowId,
  });

  /** Sends the link through an outgoing mail server; the mail server's failure as an error. */
  const send = async (
    email: NonNullable<CreateInvitationInput['email']>,
    to: string,
    words: ReturnType<InvitationWords>,
  ) => {
    const server = await deps.mailServers.find(email.mailServer);
    if (server.protocol !== 'smtp') {
      throw new OutlinkError('reauthorization_mail_server_not_outgoing', { name: server.name });
    }
    const runtime = await deps.mailServers.runtime(server.id);
    try {
      const { value } = await deps.mail.smtp(runtime);
      try {
        await value.session.send({
          from: runtime.username,
          to: [to],
          subject: words.subject,
          text: words.text,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } finally {
        value.session.quit();
      }
    } catch (error) {
      throw asOutlinkError(error, server.name);
    }
    return server.id;
  };

  return {
    async create(actor, connectionId, input = {}) {
      if (!config.baseUrlIsHttps)
        throw new OutlinkError('insecure_base_url', { baseUrl: config.baseUrl.href });
      const hours = input.expiresInHours ?? REAUTHORIZATION_HOURS.default;
      if (
        !Number.isInteger(hours) ||
        hours < REAUTHORIZATION_HOURS.min ||
        hours > REAUTHORIZATION_HOURS.max
      ) {
        throw new OutlinkError('reauthorization_hours_invalid', {
          min: REAUTHORIZATION_HOURS.min,
          max: REAUTHORIZATION_HOURS.max,
        });
      }
      const connection = await loadConnection(connectionId);
      const secret = randomBytes(32).toString('base64url');
      const url = new URL(`${REAUTHORIZE_PATH}${secret}`, config.baseUrl).href;
      const now = clock.now();
      const invitation: InvitationRecord = {
        id: randomUUID(),
        connectionId,
        secretHash: hashToken(secret),
        actor: actorLabel(actor),
        actorKind: actor.kind,
        actorId: actor.kind === 'user' || actor.kind === 'api-token' ? actor.id : null,
        emailedTo: null,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + hours * 3_600_000).toISOString(),
        usedAt: null,
        flowId: null,
        revokedAt: null,
      };
      const replaced = await inTransaction(db, async (trx) => {
        const repo = createInvitationRepository(trx);
        // One active link per connection: a new one replaces the one sent before.
        const revoked = await repo.revokeActive(connectionId, invitation.createdAt);
        await repo.insert(invitation);
        return revoked;
      });
      let emailedTo: string | null = null;
      let mailServerId: string | undefined;
      if (input.email) {
        const to = input.email.to ?? connection.account;
        try {
          mailServerId = await send(
            input.email,
            to,
            deps.words(input.email.locale, {
              account: connection.account,
              url,
              expiresAt: invitation.expiresAt,
            }),
          );
        } catch (error) {
          // A link nobody received is no use to anyone: it dies with the failed mail.
          await invitations.revokeActive(connectionId, clock.now().toISOString());
          throw error;
        }
        emailedTo = to;
        await invitations.setEmailedTo(invitation.id, to);
      }
      await events.record(db, {
        type: 'connection.reauthorization_link_created',
        actor,
        linkId: connection.linkId,
        connectionId,
        data: {
          invitationId: invitation.id,
          account: connection.account,
          expiresAt: invitation.expiresAt,
          ...(emailedTo ? { emailedTo, mailServerId } : {}),
          ...(replaced.length ? { replaced } : {}),
        },
      });
      return { invitation: view({ ...invitation, emailedTo }), url };
    },

    startedByLink: async (flowId) => (await invitations.findByFlowId(flowId)) !== undefined,

    async list(connectionId) {
      await loadConnection(connectionId);
      return (await invitations.listOfConnection(connectionId)).map(view);
    },

    async revoke(actor, connectionId) {
      const connection = await loadConnection(connectionId);
      return inTransaction(db, async (trx) => {
        const revoked = await createInvitationRepository(trx).revokeActive(
          connectionId,
          clock.now().toISOString(),
        );
        for (const invitationId of revoked) {
          await events.record(trx, {
            type: 'connection.reauthorization_link_revoked',
            actor,
            linkId: connection.linkId,
            connectionId,
            data: { invitationId, account: connection.account },
          });
        }
        return revoked.length;
      });
    },

    async open(secret) {
      if (!SECRET_SHAPE.test(secret)) throw new OutlinkError('reauthorization_link_invalid');
      if (!config.baseUrlIsHttps)
        throw new OutlinkError('insecure_base_url', { baseUrl: config.baseUrl.href });
      const secretHash = hashToken(secret);
      const now = clock.now().toISOString();
      const known = await invitations.findBySecretHash(secretHash);
      if (!known) throw new OutlinkError('reauthorization_link_invalid');
      const status = statusOf(known, now);
      if (status !== 'active') throw new OutlinkError(`reauthorization_link_${status}`);
      // Single use: of two browsers opening the link at once, one gets it.
      const invitation = await invitations.claim(secretHash, now);
      if (!invitation) throw new OutlinkError('reauthorization_link_used');
      const connection = await loadConnection(invitation.connectionId);
      const started = await deps.flows.start(creatorOf(invitation), connection.linkId, {
        connectionId: connection.id,
      });
      // Without a session the flow answers its own one-time start URL: opened here at once,
      // so the flow is bound to this browser (its `__Host-` flow cookie) as issue 11 wants.
      const startSecret = new URL(started.authorizationUrl).pathname.slice(START_PATH.length);
      const opened = await deps.flows.openStart(startSecret);
      await inTransaction(db, async (trx) => {
        await createInvitationRepository(trx).setFlow(invitation.id, opened.flowId);
        await events.record(trx, {
          type: 'connection.reauthorization_link_opened',
          actor: { kind: 'system' },
          linkId: connection.linkId,
          connectionId: connection.id,
          data: {
            invitationId: invitation.id,
            flowId: opened.flowId,
            account: connection.account,
          },
        });
      });
      return opened;
    },
  };
}
