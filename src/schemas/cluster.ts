import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from './common.js';

/** One node of the cluster (issue 14), as `GET /api/v1/cluster` shows it. */
export const ClusterNode = Type.Object({
  id: Type.String(),
  role: Type.String({ description: '`serve` or `worker`' }),
  hostname: Type.String(),
  pid: Type.Integer(),
  version: Type.String({ description: 'the Outlink version the node runs' }),
  schemaVersion: Type.Integer({ description: 'the newest migration its code knows' }),
  startedAt: Type.String({ format: 'date-time' }),
  lastHeartbeatAt: Type.String({ format: 'date-time' }),
  stoppedAt: Nullable(Type.String({ format: 'date-time' })),
  status: Type.Union([Type.Literal('alive'), Type.Literal('gone'), Type.Literal('stopped')], {
    description: '`gone`: silent for longer than the lease timeout; its work moves to others',
  }),
  holds: Type.Object({
    connections: Type.Array(Type.String(), { description: 'connections it is refreshing' }),
    mailServers: Type.Array(Type.String(), { description: 'mailboxes it is handling' }),
  }),
});
export type ClusterNodeView = Static<typeof ClusterNode>;

export const ClusterResponse = Type.Object({
  items: Type.Array(ClusterNode),
  leaseSeconds: Type.Integer({ description: 'how long a silent node keeps its work' }),
});
