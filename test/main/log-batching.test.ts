import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { LOG_FLUSH_MS } from '../../src/main/log.js';
import { ROOT } from '../cli/cli-harness.js';

/**
 * A process whose logger writes to stderr as `serve` does: `script` runs with `log` in scope.
 * Resolves with each stderr line and when it arrived, in ms since the child started.
 */
function run(script: string): Promise<{ line: string; atMs: number }[]> {
  const code = `import { createLogger } from './src/main/log.ts';
const log = createLogger({ level: 'info' });
${script}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const started = Date.now();
    const lines: { line: string; atMs: number }[] = [];
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) lines.push({ line, atMs: Date.now() - started });
    });
    child.on('error', reject);
    child.on('close', () => resolve(lines));
    setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
  });
}

/** Issue 12: log lines are written in batches, and still show promptly and on exit. */
describe('the process logger', () => {
  it('writes a lone line within the flush period while the process keeps running', async () => {
    const lines = await run(`
const start = Date.now();
log.info({ mark: 'lone' }, 'lone line');
setTimeout(() => { log.info({ mark: 'late', waitedMs: Date.now() - start }, 'late'); }, 3000);
setTimeout(() => process.exit(0), 3100);`);
    const lone = lines.find((l) => l.line.includes('"mark":"lone"'));
    const late = lines.find((l) => l.line.includes('"mark":"late"'));
    assert.ok(lone, 'the lone line was written');
    assert.ok(late, 'the line logged just before exit was flushed');
    // Seen well before the process logged its last line and exited (3 s later): the periodic
    // flush wrote it, not the exit. Generous against a loaded machine.
    assert.ok(
      lone.atMs < late.atMs - 3000 + LOG_FLUSH_MS * 8,
      `lone line at ${lone.atMs} ms, exit line at ${late.atMs} ms`,
    );
  });

  it('writes every line of a burst, in order, when the process exits', async () => {
    const lines = await run(`
for (let i = 0; i < 500; i++) log.info({ n: i }, 'burst');
process.exit(0);`);
    const numbers = lines
      .map((l) => JSON.parse(l.line) as { n?: number })
      .map((l) => l.n)
      .filter((n) => n !== undefined);
    assert.deepEqual(
      numbers,
      Array.from({ length: 500 }, (_, i) => i),
    );
  });
});
