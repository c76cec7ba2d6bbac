import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { googleLink, startOutlink } from '../test/support/harness.js';
import { compareWithBareRoute, listenLoopback } from './support.js';

/**
 * `GET /api/v1/links/:id` (bearer API token, SQLite, response schema serialisation) against a
 * bare Fastify route that returns the same JSON from memory, in the same process and run.
 * Rounds alternate so drift on a busy machine hits both sides alike.
 */
export async function benchLinkShow(options: {
  seconds: number;
  rounds: number;
  connections: number;
}) {
  const outlink = await startOutlink('sqlite', { env: { OUTLINK_LOG_LEVEL: 'warn' } });
  const bare = Fastify({ logger: false });
  try {
    const created = await outlink.app.inject({
      method: 'POST',
      url: '/api/v1/links',
      headers: await outlink.adminHeaders(),
      payload: googleLink(),
    });
    const link = created.json() as { id: string };
    const body = (
      await outlink.app.inject({
        method: 'GET',
        url: `/api/v1/links/${link.id}`,
        headers: await outlink.tokenHeaders(),
      })
    ).json() as unknown;
    bare.get('/api/v1/links/:id', async () => body);
    const headers = await outlink.tokenHeaders();
    const outlinkUrl = `${await listenLoopback(outlink.app)}/api/v1/links/${link.id}`;
    const bareUrl = `${await listenLoopback(bare)}/api/v1/links/${randomUUID()}`;

    return await compareWithBareRoute(
      'GET /api/v1/links/:id',
      { outlink: outlinkUrl, bare: bareUrl },
      { ...options, headers },
    );
  } finally {
    await bare.close();
    await outlink.close();
  }
}
