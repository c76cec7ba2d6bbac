/**
 * The baselines of the HTTPS benchmarks, in a process of their own, over TLS with Outlink's
 * certificate. `node --import tsx bench/https-bare.ts <fastify|node|forward> '<json spec>'`;
 * prints `listening <port>` once bound to 127.0.0.1, and exits when its stdin closes (the
 * bench process ended), so it never outlives the run.
 * - `fastify`, `node`: a bare server answering fixed paths with the bytes Outlink answered
 *   them with;
 * - `forward`: the least any server between a caller and the provider can do for a forced
 *   refresh — each request sends the refresh grant to the provider (one keep-alive TLS
 *   connection, the refresh token rotated in memory) and answers the provider's JSON.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Fastify from 'fastify';
import { Agent, request } from 'undici';

interface Spec {
  readonly certFile: string;
  readonly keyFile: string;
  /** Path → the JSON body to answer with `200`. */
  readonly routes?: Record<string, unknown>;
  /** For `forward`: the grant to send, and the provider's CA. */
  readonly forward?: {
    readonly tokenEndpoint: string;
    readonly caFile: string;
    readonly form: Record<string, string>;
  };
}

const kind = process.argv[2];
const spec = JSON.parse(process.argv[3] ?? '{}') as Spec;
const tls = { cert: readFileSync(spec.certFile), key: readFileSync(spec.keyFile) };
let port: number;

if (kind === 'fastify') {
  // A bare Fastify route: schema-less, no hooks, no logger — the same bytes, as JSON.
  const app = Fastify({ https: tls, logger: false });
  for (const [path, body] of Object.entries(spec.routes ?? {})) {
    app.get(path, async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return body;
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
} else if (kind === 'forward' && spec.forward) {
  const { tokenEndpoint, caFile, form } = spec.forward;
  const grant = { ...form };
  const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
  const server = createServer(tls, (incoming, response) => {
    incoming.resume();
    request(tokenEndpoint, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(grant).toString(),
    })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        if (answer.statusCode === 200)
          grant.refresh_token = (
            JSON.parse(body.toString()) as { refresh_token: string }
          ).refresh_token;
        response.writeHead(answer.statusCode, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': body.length,
          'cache-control': 'no-store',
        });
        response.end(body);
      })
      .catch(() => response.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
} else {
  // A bare Node HTTPS server writing the prepared bytes.
  const bodies = new Map(
    Object.entries(spec.routes ?? {}).map(([path, body]) => [
      path,
      Buffer.from(JSON.stringify(body)),
    ]),
  );
  const server = createServer(tls, (request, response) => {
    const body = bodies.get(request.url ?? '');
    if (!body) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-store',
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
}
process.stdout.write(`listening ${port}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
