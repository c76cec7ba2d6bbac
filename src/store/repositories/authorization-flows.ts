import type { Selectable } from 'kysely';
import type { AuthorizationFlowsTable } from '../schema.js';
import type { Executor } from './transaction.js';

/**
 * Where a flow is: `pending` until its callback arrives, `exchanging` while that callback is
 * handled (no second callback can claim it), then `succeeded` or `failed`.
 */
export type FlowRecordStatus = 'pending' | 'exchanging' | 'succeeded' | 'failed';

/** Why a flow failed, as stored (JSON): a catalog id and what the provider said. */
export interface FlowErrorData {
  readonly id: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly description?: string;
}

/**
 * One authorization (DESIGN §6), from its start to its outcome. Of the state only its hash
 * is kept; the PKCE verifier is encrypted.
 */
export interface FlowRecord {
  readonly id: string;
  readonly stateHash: string;
  readonly linkId: string;
  /** The connection being re-authorized, if any. */
  readonly connectionId: string | null;
  readonly codeVerifierEnc: string;
  readonly nonce: string | null;
  readonly redirectUri: string;
  /** The hash of the browser session that started the flow, which must complete it. */
  readonly sessionHash: string | null;
  readonly actor: string;
  readonly accountLabel: string | null;
  readonly status: FlowRecordStatus;
  readonly resultConnectionId: string | null;
  readonly error: FlowErrorData | null;
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
}

/** A flow as it starts: pending, with no outcome yet. */
export type NewFlow = Omit<FlowRecord, 'status' | 'resultConnectionId' | 'error' | 'completedAt'>;

/** Statements on `authorization_flows`. */
export interface AuthorizationFlowRepository {
  insert(flow: NewFlow): Promise<void>;
  findById(id: string): Promise<FlowRecord | undefined>;
  /**
   * Single use: moves the pending flow of `stateHash` to `exchanging` and returns it, in one
   * statement, so of two callbacks with the same state only one gets the flow. Undefined when
   * no flow has that state or it is no longer pending.
   */
  claimPending(stateHash: string): Promise<FlowRecord | undefined>;
  markFailed(id: string, error: FlowErrorData, completedAt: string): Promise<void>;
  markSucceeded(id: string, connectionId: string, completedAt: string): Promise<void>;
}

export function createAuthorizationFlowRepository(db: Executor): AuthorizationFlowRepository {
  return {
    async insert(flow) {
      await db
        .insertInto('authorization_flows')
        .values({
          id: flow.id,
          state_hash: flow.stateHash,
          link_id: flow.linkId,
          connection_id: flow.connectionId,
          code_verifier_enc: flow.codeVerifierEnc,
          nonce: flow.nonce,
          redirect_uri: flow.redirectUri,
          session_hash: flow.sessionHash,
          actor: flow.actor,
          account_label: flow.accountLabel,
          status: 'pending',
          result_connection_id: null,
          error: null,
          expires_at: flow.expiresAt,
          created_at: flow.createdAt,
          completed_at: null,
        })
        .execute();
    },
    async findById(id) {
      const row = await db
        .selectFrom('authorization_flows')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async claimPending(stateHash) {
      const row = await db
        .updateTable('authorization_flows')
        .set({ status: 'exchanging' })
        .where('state_hash', '=', stateHash)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async markFailed(id, error, completedAt) {
      await db
        .updateTable('authorization_flows')
        .set({ status: 'failed', error: JSON.stringify(error), completed_at: completedAt })
        .where('id', '=', id)
        .execute();
    },
    async markSucceeded(id, connectionId, completedAt) {
      await db
        .updateTable('authorization_flows')
        .set({
          status: 'succeeded',
          result_connection_id: connectionId,
          completed_at: completedAt,
        })
        .where('id', '=', id)
        .execute();
    },
  };
}

function toRecord(row: Selectable<AuthorizationFlowsTable>): FlowRecord {
  return {
    id: row.id,
    stateHash: row.state_hash,
    linkId: row.link_id,
    connectionId: row.connection_id,
    codeVerifierEnc: row.code_verifier_enc,
    nonce: row.nonce,
    redirectUri: row.redirect_uri,
    sessionHash: row.session_hash,
    actor: row.actor,
    accountLabel: row.account_label,
    status: row.status as FlowRecordStatus,
    resultConnectionId: row.result_connection_id,
    error: row.error ? (JSON.parse(row.error) as FlowErrorData) : null,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}
