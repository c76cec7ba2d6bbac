import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { googleLink, startOutlink } from '../test/support/harness.js';
import { formatRatio, listenLoopback, measure } from './support.js';

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

    const rounds: { outlink: number; bare: number }[] = [];
    for (let i = 0; i < options.rounds; i++) {
      const b = await measure(bareUrl, options);
      const o = await measure(outlinkUrl, { ...options, headers });
      if (o.errors || b.errors)
        throw new Error(`errors during the run: outlink ${o.errors}, bare ${b.errors}`);
      rounds.push({ outlink: o.requestsPerSecond, bare: b.requestsPerSecond });
    }
    const sum = (k: 'outlink' | 'bare') => rounds.reduce((s, r) => s + r[k], 0);
    const ratio = sum('outlink') / sum('bare');
    return {
      name: 'GET /api/v1/links/:id vs bare Fastify route',
      outlinkRps: Math.round(sum('outlink') / rounds.length),
      bareRps: Math.round(sum('bare') / rounds.length),
      ratio,
      summary: `GET /api/v1/links/:id: ${Math.round(sum('outlink') / rounds.length)} req/s = ${formatRatio(ratio)} of a bare Fastify route (${Math.round(sum('bare') / rounds.length)} req/s), ${options.connections} connections, ${rounds.length}×${options.seconds}s rounds`,
    };
  } finally {
    await bare.close();
    await outlink.close();
  }
}
