/**
 * Each `samples/<name>.eml` (shaped like what a real client sends, see samples/README.md)
 * through the pure half of the handler: parse, summary and issue key from the subject, the
 * description as the reply's new text, the skip reason, the attachments kept.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stripQuotedReply } from '../../src/handler/body.js';
import { type SkipReason, screen } from '../../src/handler/filters.js';
import { type MailAddress, parseMessage } from '../../src/handler/parse.js';
import { findIssueKey, summaryOf } from '../../src/handler/subject.js';

interface Expected {
  readonly summary: string;
  readonly issueKey: string | null;
  readonly descriptionIncludes: readonly string[];
  readonly descriptionExcludes: readonly string[];
  readonly from: MailAddress | null;
  readonly skip: SkipReason | null;
  readonly attachments: readonly string[];
}

const SAMPLES = join(import.meta.dirname, 'samples');
const PREFIXES = ['MAIL'];
const OWN = ['support@outlink.example'];
const LIMITS = {
  maxAttachmentBytes: 10 * 1024 * 1024,
  maxAttachmentBytesPerMessage: 25 * 1024 * 1024,
};

const names = readdirSync(SAMPLES)
  .filter((file) => file.endsWith('.eml'))
  .map((file) => file.slice(0, -'.eml'.length))
  .sort();

describe('samples', () => {
  it('has at least 8 samples, each with its expectations', () => {
    assert.ok(names.length >= 8, `${names.length} samples`);
    const expectations = readdirSync(SAMPLES).filter((file) => file.endsWith('.expected.json'));
    assert.deepEqual(expectations.sort(), names.map((name) => `${name}.expected.json`).sort());
  });

  for (const name of names) {
    it(name, async () => {
      const raw = readFileSync(join(SAMPLES, `${name}.eml`));
      const expected = JSON.parse(
        readFileSync(join(SAMPLES, `${name}.expected.json`), 'utf8'),
      ) as Expected;
      const message = await parseMessage(raw, LIMITS);
      const description = stripQuotedReply(message.text);

      assert.equal(summaryOf(message.subject, PREFIXES), expected.summary, 'summary');
      assert.equal(findIssueKey(message.subject, PREFIXES), expected.issueKey, 'issue key');
      assert.deepEqual(message.from, expected.from, 'from');
      assert.equal(screen(message, OWN), expected.skip, 'skip');
      assert.deepEqual(
        message.attachments.map((attachment) => attachment.filename),
        expected.attachments,
        'attachments',
      );
      assert.deepEqual(message.droppedAttachments, [], 'nothing dropped');
      for (const part of expected.descriptionIncludes) {
        assert.ok(
          description.includes(part),
          `description includes ${JSON.stringify(part)}:\n${description}`,
        );
      }
      for (const part of expected.descriptionExcludes) {
        assert.ok(
          !description.includes(part),
          `description excludes ${JSON.stringify(part)}:\n${description}`,
        );
      }
    });
  }
});
