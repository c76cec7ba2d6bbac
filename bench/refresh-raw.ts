/**
 * The baseline of the refresh benchmark, in a process of its own: oauth4webapi's refresh
 * grant in a loop, `concurrency` at a time, to the same provider — over the global fetch
 * (`client: "fetch"`, the baseline), or over Outlink's own HTTP client (`client:
 * "outlink"`: the guarded fetch, which sends these requests through undici's `request`), to
 * tell what the client alone is worth. JSON lines on stdin name a file of refresh tokens;
 * each answer is `{"ms", "refreshed", "cpuUs"}` (the process's CPU time during the run).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as oauth from 'oauth4webapi';
import { createAddressGuard, createGuardedFetch } from '../src/net/address-guard.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as {
  issuer: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  concurrency: number;
  client?: 'fetch' | 'outlink';
};
const server: oauth.AuthorizationServer = {
  issuer: spec.issuer,
  token_endpoint: spec.tokenEndpoint,
};
const client: oauth.Client = { client_id: spec.clientId };
const auth = oauth.ClientSecretPost(spec.clientSecret);
const outlinkClient =
  spec.client === 'outlink' ? createGuardedFetch(createAddressGuard()).fetch : undefined;

async function loop(tokens: readonly string[]) {
  let next = 0;
  let refreshed = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      const response = await oauth.refreshTokenGrantRequest(server, client, auth, token, {
        signal: AbortSignal.timeout(15_000),
        ...(outlinkClient ? { [oauth.customFetch]: outlinkClient } : {}),
      });
      const result = await oauth.processRefreshTokenResponse(server, client, response);
      if (!result.access_token) throw new Error('no access token');
      refreshed++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return refreshed;
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const { file } = JSON.parse(line) as { file: string };
  const tokens = JSON.parse(readFileSync(file, 'utf8')) as string[];
  const start = performance.now();
  const cpu = process.cpuUsage();
  const refreshed = await loop(tokens);
  const { user, system } = process.cpuUsage(cpu);
  const ms = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ ms, refreshed, cpuUs: user + system })}\n`);
}
