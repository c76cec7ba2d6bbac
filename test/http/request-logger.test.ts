import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { lazyChildLoggerFactory } from '../../src/http/request-logger.js';
import { createLogger } from '../../src/main/log.js';

/** The process logger as `serve` builds it, writing its lines into an array. */
function processLogger(): { log: FastifyBaseLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'info', destination }) as unknown as FastifyBaseLogger;
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines };
}

/** Issue 12: the request logger is made only when a line is written through it. */
describe('the lazy request logger', () => {
  it('makes no child while nothing is logged through it', () => {
    const { log } = processLogger();
    let made = 0;
    const counting = Object.create(log) as FastifyBaseLogger;
    counting.child = (bindings, options) => {
      made++;
      return log.child(bindings, options);
    };
    const request = lazyChildLoggerFactory(counting, { reqId: 'r-1' }, {});
    assert.equal(request.level, 'info');
    assert.equal(made, 0);
    request.info('first');
    request.error('second');
    assert.equal(made, 1, 'one child, made by the first line');
  });

  it('writes the request id and keeps every redaction of the process logger', () => {
    const { log, lines } = processLogger();
    const request = lazyChildLoggerFactory(log, { reqId: 'r-2' }, {});
    request.warn({ err: { token: 'secret-value' }, link: { clientSecret: 's3' } }, 'refused');
    const [line] = lines();
    assert.equal(line?.reqId, 'r-2');
    assert.equal(line?.msg, 'refused');
    assert.equal(line?.level, 40);
    assert.deepEqual(line?.link, { clientSecret: '[redacted]' });
    assert.ok(!JSON.stringify(line).includes('secret-value'));
    assert.ok(!JSON.stringify(line).includes('s3'));
  });

  it('gives a route with its own log level its child at once', () => {
    const { log, lines } = processLogger();
    const request = lazyChildLoggerFactory(log, { reqId: 'r-3' }, { level: 'warn' });
    request.info('hidden');
    request.warn('shown');
    assert.deepEqual(
      lines().map((l) => l.msg),
      ['shown'],
    );
    assert.equal(lines()[0]?.reqId, 'r-3');
  });
});
