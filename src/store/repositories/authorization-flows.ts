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
  /** Who started the flow, as a label for people (a user's name, `api-token:<name>`, `cli`). */
  readonly actor: string;
  /** Who started it, for the events: `user`, `api-token`, `cli`; null for flows from before. */
  readonly actorKind: string | null;
  /** The user's or API token's id. */
  readonly actorId: string | null;
  readonly accountLabel: string | null;
  /** The hash of the one-time start URL's secret (flows started without a browser session). */
  readonly startHash: string | null;
  /** The provider's authorization URL the start URL redirects to, encrypted. */
  readonly authorizationUrlEnc: string | null;
  /** The hash of the flow-binding cookie set when the start URL was opened. */
  readonly bindingHash: string | null;
  /** When the start URL was opened; it works once. */
  readonly startedAt: string | null;
  readonly status: FlowRecordStatus;
  readonly resultConnectionId: string | null;
  readonly error: FlowErrorData | null;
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
}

/** A flow as it starts: pending, with no outcome yet. */
export type NewFlow = Omit<
  FlowRecord,
  'status' | 'resultConnectionId' | 'error' | 'completedAt' | 'bindingHash' | 'startedAt'
>;

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
  /**
   * One time: marks the pending, unexpired flow whose start URL secret hashes to `startHash`
   * as opened, bound to the browser whose binding cookie hashes to `bindingHash`, and returns
   * it — in one statement, so a start URL opened twice binds once. Undefined otherwise.
   */
  claimStart(startHash: string, bindingHash: string, now: string): Promise<FlowRecord | undefined>;
  markFailed(id: string, error: FlowErrorData, completedAt: string): Promise<void>;
  markSucceeded(id: string, connectionId: string, completedAt: string): Promise<void>;
  /**
   * Deletes up to `limit` finished flows: completed before `cutoff`, or expired before it
   * (a flow nobody finished is over at its expiry). Returns how many.
   */
  deleteFinishedBefore(cutoff: string, limit: number): Promise<number>;
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
          actor_kind: flow.actorKind,
          actor_id: flow.actorId,
          start_hash: flow.startHash,
          authorization_url_enc: flow.authorizationUrlEnc,
          binding_hash: null,
          started_at: null,
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
    async claimStart(startHash, bindingHash, now) {
      const row = await db
        .updateTable('authorization_flows')
        .set({ binding_hash: bindingHash, started_at: now })
        .where('start_hash', '=', startHash)
        .where('started_at', 'is', null)
        .where('status', '=', 'pending')
        .where('expires_at', '>', now)
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
    async deleteFinishedBefore(cutoff, limit) {
      const result = await db
        .deleteFrom('authorization_flows')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('authorization_flows')
            .select('id')
            .where((w) => w.or([w('completed_at', '<', cutoff), w('expires_at', '<', cutoff)]))
            .limit(limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
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
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    accountLabel: row.account_label,
    startHash: row.start_hash,
    authorizationUrlEnc: row.authorization_url_enc,
    bindingHash: row.binding_hash,
    startedAt: row.started_at,
    status: row.status as FlowRecordStatus,
    resultConnectionId: row.result_connection_id,
    error: row.error ? (JSON.parse(row.error) as FlowErrorData) : null,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}
