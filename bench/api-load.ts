/**
 * A load generator for the token benchmarks, in a process of its own (never inside the
 * process it measures). JSON lines on stdin, one JSON answer per line on stdout:
 * - `{"kind":"sequential", url, method, headers, form?, seconds}`: one request after another
 *   over one keep-alive TLS connection; with `form` (a refresh grant sent straight to the
 *   provider) each request carries the refresh token the previous answer rotated to.
 *   Answers `{perSecond, p99Ms, errors, count}`.
 * - `{"kind":"burst", url, headers, callers}`: `callers` simultaneous GETs, each on its own
 *   already open connection; answers `{allMs, p99Ms, singleMs, errors}`.
 * - `{"kind":"warm", url, callers}`: opens `callers` connections (GETs to `url`).
 * Certificates are not checked (loopback, self-signed and test CA alike).
 */
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';

const agent = new Agent({
  connections: 2_000,
  keepAliveTimeout: 600_000,
  connect: { rejectUnauthorized: false },
});

interface Command {
  kind: 'sequential' | 'burst' | 'warm';
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  form?: Record<string, string>;
  seconds?: number;
  callers?: number;
}

const p99 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
};

async function once(command: Command, form?: Record<string, string>) {
  const start = performance.now();
  const res = await request(command.url, {
    dispatcher: agent,
    method: command.method ?? 'GET',
    headers: {
      ...command.headers,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
  });
  const body = await res.body.text();
  return { ms: performance.now() - start, ok: res.statusCode < 300, body };
}

async function sequential(command: Command) {
  const form = command.form ? { ...command.form } : undefined;
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + (command.seconds ?? 5) * 1000;
  const start = performance.now();
  while (performance.now() < end) {
    const r = await once(command, form);
    latencies.push(r.ms);
    if (!r.ok) errors++;
    else if (form)
      form.refresh_token = (JSON.parse(r.body) as { refresh_token: string }).refresh_token;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    perSecond: latencies.length / seconds,
    p99Ms: p99(latencies),
    errors,
    count: latencies.length,
    ...(form ? { refreshToken: form.refresh_token } : {}),
  };
}

async function burst(command: Command) {
  const start = performance.now();
  const results = await Promise.all(
    Array.from({ length: command.callers ?? 1 }, () => once(command)),
  );
  const bodies = new Set(results.filter((r) => r.ok).map((r) => r.body));
  return {
    allMs: performance.now() - start,
    p99Ms: p99(results.map((r) => r.ms)),
    errors: results.filter((r) => !r.ok).length,
    distinctAnswers: bodies.size,
  };
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  const answer =
    command.kind === 'sequential'
      ? await sequential(command)
      : command.kind === 'burst'
        ? await burst(command)
        : { warmed: (await burst(command)).allMs };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
await agent.close();
