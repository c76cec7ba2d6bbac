import type { Selectable } from 'kysely';
import type { ReauthorizationInvitationsTable } from '../schema.js';
import type { Executor } from './transaction.js';

/**
 * A one-time re-authorization link of one connection (issue 13). Of its secret only the hash
 * is kept; the link itself is shown once, when it is made.
 */
export interface InvitationRecord {
  readonly id: string;
  readonly connectionId: string;
  readonly secretHash: string;
  /** Who made it, as a label for people (a user's name, `api-token:<name>`, `cli`). */
  readonly actor: string;
  readonly actorKind: string;
  readonly actorId: string | null;
  /** Where it was emailed, if it was. */
  readonly emailedTo: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** When it was opened: it works once. */
  readonly usedAt: string | null;
  /** The flow its opening started. */
  readonly flowId: string | null;
  readonly revokedAt: string | null;
}

export type NewInvitation = Omit<InvitationRecord, 'usedAt' | 'flowId' | 'revokedAt'>;

/** Statements on `reauthorization_invitations`. */
export interface InvitationRepository {
  insert(invitation: NewInvitation): Promise<void>;
  findBySecretHash(secretHash: string): Promise<InvitationRecord | undefined>;
  /** The link whose opening started flow `flowId`. */
  findByFlowId(flowId: string): Promise<InvitationRecord | undefined>;
  /** The connection's links, newest first. */
  listOfConnection(connectionId: string): Promise<InvitationRecord[]>;
  /**
   * One time: marks the unused, unrevoked, unexpired link of `secretHash` as used and
   * returns it — in one statement, so a link opened twice at once is used once.
   */
  claim(secretHash: string, now: string): Promise<InvitationRecord | undefined>;
  setFlow(id: string, flowId: string): Promise<void>;
  setEmailedTo(id: string, to: string): Promise<void>;
  /** Revokes the connection's links that could still be used; returns their ids. */
  revokeActive(connectionId: string, now: string): Promise<string[]>;
}

export function createInvitationRepository(db: Executor): InvitationRepository {
  return {
    async insert(invitation) {
      await db
        .insertInto('reauthorization_invitations')
        .values({
          id: invitation.id,
          connection_id: invitation.connectionId,
          secret_hash: invitation.secretHash,
          actor: invitation.actor,
          actor_kind: invitation.actorKind,
          actor_id: invitation.actorId,
          emailed_to: invitation.emailedTo,
          created_at: invitation.createdAt,
          expires_at: invitation.expiresAt,
          used_at: null,
          flow_id: null,
          revoked_at: null,
        })
        .execute();
    },
    async findBySecretHash(secretHash) {
      const row = await db
        .selectFrom('reauthorization_invitations')
        .selectAll()
        .where('secret_hash', '=', secretHash)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async findByFlowId(flowId) {
      const row = await db
        .selectFrom('reauthorization_invitations')
        .selectAll()
        .where('flow_id', '=', flowId)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async listOfConnection(connectionId) {
      const rows = await db
        .selectFrom('reauthorization_invitations')
        .selectAll()
        .where('connection_id', '=', connectionId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },
    async claim(secretHash, now) {
      const row = await db
        .updateTable('reauthorization_invitations')
        .set({ used_at: now })
        .where('secret_hash', '=', secretHash)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async setFlow(id, flowId) {
      await db
        .updateTable('reauthorization_invitations')
        .set({ flow_id: flowId })
        .where('id', '=', id)
        .execute();
    },
    async setEmailedTo(id, to) {
      await db
        .updateTable('reauthorization_invitations')
        .set({ emailed_to: to })
        .where('id', '=', id)
        .execute();
    },
    async revokeActive(connectionId, now) {
      const rows = await db
        .updateTable('reauthorization_invitations')
        .set({ revoked_at: now })
        .where('connection_id', '=', connectionId)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

function toRecord(row: Selectable<ReauthorizationInvitationsTable>): InvitationRecord {
  return {
    id: row.id,
    connectionId: row.connection_id,
    secretHash: row.secret_hash,
    actor: row.actor,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    emailedTo: row.emailed_to,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    flowId: row.flow_id,
    revokedAt: row.revoked_at,
  };
}
