/**
 * Asserts, message by message, that what the handler recorded for a corpus is exactly what
 * the corpus expects: the issue with its key, summary, description, reporter and attachments;
 * the comment on the right issue with the quoted history gone; the skip or failure with its
 * reason; the second copy recorded as a duplicate. Counts are checked too, but never alone.
 */
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import type { CorpusMessage } from './corpus.js';

/**
 * `locationOf(index)`: where the corpus message with that index sits in the mailbox (its
 * ledger location), e.g. `imap:INBOX:<uidvalidity>:<index + 1>`.
 */
export async function assertCorpusOutcomes(
  db: Kysely<Database>,
  mailServerId: string,
  corpus: readonly CorpusMessage[],
  prefix: string,
  locationOf: (index: number) => string,
): Promise<void> {
  const ledger = await db
    .selectFrom('mail_messages')
    .selectAll()
    .where('mail_server_id', '=', mailServerId)
    .execute();
  const byLocation = new Map(ledger.map((row) => [row.location, row]));
  assert.equal(ledger.length, corpus.length, 'one ledger row per message, no more');
  const issues = new Map(
    (await db.selectFrom('issues').selectAll().execute()).map((i) => [i.key, i]),
  );
  const comments = new Map(
    (await db.selectFrom('comments').selectAll().execute()).map((c) => [c.id, c]),
  );
  const attachments = await db
    .selectFrom('attachments')
    .select(['issue_id', 'comment_id', 'filename'])
    .execute();
  let expectedIssues = 0;
  let expectedComments = 0;
  for (const message of corpus) {
    const where = `message ${message.index} (${message.label})`;
    const row = byLocation.get(locationOf(message.index));
    assert.ok(row, `${where}: not recorded`);
    const expect = message.expect;
    switch (expect.kind) {
      case 'issue': {
        expectedIssues++;
        const key = `${prefix}-${expect.number}`;
        assert.equal(row.outcome, 'issue', `${where}: outcome ${row.outcome} ${row.reason ?? ''}`);
        const issue = issues.get(key);
        assert.ok(issue, `${where}: no issue ${key}`);
        assert.equal(row.issue_id, issue.id, `${where}: ledger names another issue than ${key}`);
        assert.equal(issue.summary, expect.summary, `${where}: summary`);
        assert.equal(issue.reporter_address, expect.reporter, `${where}: reporter`);
        assert.equal(issue.reporter_name, expect.reporterName, `${where}: reporter name`);
        for (const text of expect.descriptionIncludes) {
          assert.ok(
            issue.description.includes(text),
            `${where}: description lacks ${JSON.stringify(text)}:\n${issue.description}`,
          );
        }
        for (const text of expect.descriptionExcludes) {
          assert.ok(
            !issue.description.includes(text),
            `${where}: description keeps ${JSON.stringify(text)}:\n${issue.description}`,
          );
        }
        const names = attachments
          .filter((a) => a.issue_id === issue.id && a.comment_id === null)
          .map((a) => a.filename);
        assert.deepEqual(names.sort(), [...expect.attachments].sort(), `${where}: attachments`);
        break;
      }
      case 'comment': {
        expectedComments++;
        assert.equal(
          row.outcome,
          'comment',
          `${where}: outcome ${row.outcome} ${row.reason ?? ''}`,
        );
        const comment = comments.get(row.comment_id ?? '');
        assert.ok(comment, `${where}: no comment`);
        const issue = issues.get(`${prefix}-${expect.issueNumber}`);
        assert.ok(issue, `${where}: no issue ${prefix}-${expect.issueNumber}`);
        assert.equal(comment.issue_id, issue.id, `${where}: comment on the wrong issue`);
        assert.equal(comment.author_address, expect.author, `${where}: author`);
        for (const text of expect.bodyIncludes) {
          assert.ok(
            comment.body.includes(text),
            `${where}: body lacks ${JSON.stringify(text)}:\n${comment.body}`,
          );
        }
        for (const text of expect.bodyExcludes) {
          assert.ok(
            !comment.body.includes(text),
            `${where}: body keeps ${JSON.stringify(text)}:\n${comment.body}`,
          );
        }
        break;
      }
      case 'skipped':
      case 'failed':
        assert.equal(row.outcome, expect.kind, `${where}: outcome`);
        assert.equal(row.reason, expect.reason, `${where}: reason`);
        assert.equal(row.issue_id, null, `${where}: made an issue`);
        break;
      case 'duplicate': {
        assert.equal(row.outcome, 'duplicate', `${where}: outcome ${row.outcome}`);
        const first = byLocation.get(locationOf(expect.of));
        assert.ok(first, `${where}: the first copy is not recorded`);
        assert.equal(row.issue_id, first.issue_id, `${where}: duplicate of another issue`);
        break;
      }
    }
  }
  assert.equal(issues.size, expectedIssues, 'issues made, in all');
  assert.equal(comments.size, expectedComments, 'comments made, in all');
}
