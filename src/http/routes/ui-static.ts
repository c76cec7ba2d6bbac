import type { FastifyInstance } from 'fastify';
import { STATIC_PREFIX, type StaticAsset } from '../../ui/assets.js';

/**
 * The client modules and stylesheet of the admin UI. Public (the login page needs them);
 * a request carrying the current `?v=` hash may be cached for a year, others revalidate
 * with the hash as ETag (modules import each other without a `?v=`).
 */
export function uiStaticRoutes(
  app: FastifyInstance,
  assets: ReadonlyMap<string, StaticAsset>,
): void {
  app.get(`${STATIC_PREFIX}:file`, { schema: { hide: true } }, async (req, reply) => {
    const { file } = req.params as { file: string };
    const asset = assets.get(file);
    if (!asset) return reply.callNotFound();
    const { v } = req.query as { v?: unknown };
    const etag = `"${asset.version}"`;
    reply.header('etag', etag);
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply
      .type(asset.contentType)
      .header(
        'cache-control',
        v === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .send(asset.body);
  });
}
