import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ParseLimits } from '../../src/handler/parse.js';
import { createParsePool } from '../../src/handler/parse-pool.js';
import { message } from './message-bytes.js';

const LIMITS: ParseLimits = { maxAttachmentBytes: 1000, maxAttachmentBytesPerMessage: 2500 };

const numbered = (n: number) =>
  message(
    [
      'From: Taro Yamada <taro@example.jp>',
      'To: support@outlink.example',
      `Message-ID: <pool-${n}@example.jp>`,
      `Subject: message ${n}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
    ],
    `body ${n}\r\n`,
  );

describe('parse pool', () => {
  it('replaces a worker after messagesPerWorker messages and loses none on the way', async () => {
    const errors: unknown[] = [];
    const pool = createParsePool({
      threads: 2,
      messagesPerWorker: 3,
      onError: (e) => errors.push(e),
    });
    try {
      const raws = Array.from({ length: 20 }, (_, n) => numbered(n));
      // Half at once (several workers busy while one retires), half one after another.
      const outcomes = await Promise.all(raws.slice(0, 10).map((raw) => pool.parse(raw, LIMITS)));
      for (const raw of raws.slice(10)) outcomes.push(await pool.parse(raw, LIMITS));
      outcomes.forEach((outcome, n) => {
        assert.equal(outcome.parsed?.subject, `message ${n}`);
        assert.equal(outcome.parsed?.messageId, `pool-${n}@example.jp`);
        assert.equal(
          outcome.contentHash,
          createHash('sha256')
            .update(raws[n] as Buffer)
            .digest('hex'),
        );
      });
      // 20 messages, at most 3 each: at least 7 workers, every answer from a worker.
      assert.ok(pool.stats().started >= 7, `started ${pool.stats().started}`);
      assert.deepEqual(errors, []);
    } finally {
      await pool.close();
    }
  });

  it('keeps one worker while it has had fewer than messagesPerWorker messages', async () => {
    const pool = createParsePool({ threads: 1, messagesPerWorker: 1_000 });
    try {
      for (let n = 0; n < 30; n++) await pool.parse(numbered(n), LIMITS);
      assert.equal(pool.stats().started, 1);
    } finally {
      await pool.close();
    }
  });
});
