/**
 * Issue 14, cluster mode: the node registry. Every `serve` and `worker` process registers a
 * row and renews its heartbeat every few seconds; a node silent for longer than the lease
 * timeout is gone, and the leases it held run out at the same time, so its work moves.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import {
  type ClusterNodeRow,
  createClusterNodesRepository,
  type HeldLease,
} from '../store/repositories/cluster-nodes.js';
import type { Database } from '../store/schema.js';

export type NodeRole = 'serve' | 'worker';
export type NodeStatus = 'alive' | 'gone' | 'stopped';

/** Who this process is, as it registers. */
export interface NodeIdentity {
  /** Also the owner name of every lease this process takes. */
  readonly id: string;
  readonly hostname: string;
  readonly pid: number;
  /** The package version. */
  readonly version: string;
  /** The newest migration the code knows. */
  readonly schemaVersion: number;
}

/** One node as the registry shows it. */
export interface ClusterNode {
  readonly id: string;
  readonly role: string;
  readonly hostname: string;
  readonly pid: number;
  readonly version: string;
  readonly schemaVersion: number;
  readonly startedAt: string;
  readonly lastHeartbeatAt: string;
  readonly stoppedAt: string | null;
  readonly status: NodeStatus;
  /** The work it holds: connections it is refreshing, mailboxes it is handling. */
  readonly holds: { readonly connections: string[]; readonly mailServers: string[] };
}

export interface ClusterService {
  /** Nodes seen within the last day, newest start first, each with its status and work. */
  list(): Promise<ClusterNode[]>;
}

/** How long stopped and gone nodes stay listed. */
const HISTORY_MS = 24 * 60 * 60_000;

export function createClusterService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  /** Silent for longer than this: gone (the lease timeout). */
  nodeTimeoutMs: number;
}): ClusterService {
  const rows = createClusterNodesRepository(deps.db);
  return {
    async list() {
      const now = deps.clock.now();
      const nodes = await rows.list(new Date(now.getTime() - HISTORY_MS).toISOString());
      const leases = await rows.leasesHeldBy(
        nodes.map((n) => n.id),
        now.toISOString(),
      );
      return nodes.map((node) => view(node, statusOf(node, now, deps.nodeTimeoutMs), leases));
    },
  };
}

function statusOf(node: ClusterNodeRow, now: Date, timeoutMs: number): NodeStatus {
  if (node.stopped_at) return 'stopped';
  return Date.parse(node.last_heartbeat_at) + timeoutMs < now.getTime() ? 'gone' : 'alive';
}

function view(node: ClusterNodeRow, status: NodeStatus, leases: HeldLease[]): ClusterNode {
  const mine = status === 'alive' ? leases.filter((l) => l.owner === node.id) : [];
  const named = (prefix: string) =>
    mine.filter((l) => l.name.startsWith(prefix)).map((l) => l.name.slice(prefix.length));
  return {
    id: node.id,
    role: node.role,
    hostname: node.hostname,
    pid: node.pid,
    version: node.version,
    schemaVersion: node.schema_version,
    startedAt: node.started_at,
    lastHeartbeatAt: node.last_heartbeat_at,
    stoppedAt: node.stopped_at,
    status,
    holds: { connections: named('refresh:'), mailServers: named('mail-handler:') },
  };
}

/** This process in the registry: registered by `serve` and `worker`, not by CLI commands. */
export interface NodeRegistration {
  readonly identity: NodeIdentity;
  /** Registers the row and starts the heartbeat. */
  start(role: NodeRole): Promise<void>;
  /** Stops the heartbeat and marks the row stopped (a clean shutdown is not "gone"). */
  stop(): Promise<void>;
}

export function createNodeRegistration(deps: {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  identity: NodeIdentity;
  heartbeatMs: number;
}): NodeRegistration {
  const { identity, clock, log } = deps;
  const rows = createClusterNodesRepository(deps.db);
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let failing = false;

  const beat = async () => {
    try {
      await rows.heartbeat(identity.id, clock.now().toISOString());
      if (failing) log.info('node heartbeat recorded again');
      failing = false;
    } catch (error) {
      // Logged once per outage: the database being away is reported by the jobs too.
      if (!failing) log.warn({ err: error }, 'node heartbeat failed');
      failing = true;
    }
  };

  return {
    identity,
    async start(role) {
      if (started) return;
      const at = clock.now().toISOString();
      await rows.register({
        id: identity.id,
        role,
        hostname: identity.hostname,
        pid: identity.pid,
        version: identity.version,
        schema_version: identity.schemaVersion,
        started_at: at,
        last_heartbeat_at: at,
        stopped_at: null,
      });
      started = true;
      timer = setInterval(() => void beat(), deps.heartbeatMs);
      timer.unref();
    },
    async stop() {
      if (!started) return;
      started = false;
      clearInterval(timer);
      await rows
        .markStopped(identity.id, clock.now().toISOString())
        .catch((error: unknown) => log.warn({ err: error }, 'could not mark the node stopped'));
    },
  };
}
