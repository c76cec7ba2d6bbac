import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ClusterResponse } from '../../schemas/cluster.js';
import { authErrors } from '../../schemas/common.js';
import type { Services } from '../../services/index.js';

/** The nodes of the cluster: version, heartbeat, status, and the work each holds (admin). */
export function clusterRoutes(
  app: FastifyInstance,
  { cluster, config }: Pick<Services, 'cluster' | 'config'>,
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/api/v1/cluster', {
    schema: {
      tags: ['cluster'],
      summary: 'The nodes sharing this database, and the work each holds',
      response: { 200: ClusterResponse, ...authErrors },
    },
    handler: async () => ({ items: await cluster.list(), leaseSeconds: config.leaseSeconds }),
  });
}
