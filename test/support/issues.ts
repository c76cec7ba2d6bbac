import { randomUUID } from 'node:crypto';
import { createIssueRepository } from '../../src/store/repositories/issues.js';
import { type Executor, inTransaction } from '../../src/store/repositories/transaction.js';

/**
 * Issues written straight through the repository, as the mail handler's commit writes them,
 * for tests of what reads them (API, pages) that need no mailbox. The handler's own path is
 * tested against Dovecot (test/handler/, test/http/issue-webhooks.test.ts).
 */

export interface SeedPerson {
  readonly address: string;
  readonly name: string;
}

export interface SeedAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface SeedComment {
  readonly author: SeedPerson;
  readonly body: string;
  readonly createdAt: string;
  readonly messageId?: string | null;
  readonly attachments?: readonly SeedAttachment[];
}

export interface SeedIssue {
  readonly key: string;
  readonly summary: string;
  readonly description: string;
  readonly reporter: SeedPerson;
  readonly createdAt: string;
  readonly mailServerId?: string | null;
  readonly messageId?: string | null;
  readonly attachments?: readonly SeedAttachment[];
  readonly comments?: readonly SeedComment[];
}

/** The ids a seeded issue got. */
export interface SeededIssue {
  readonly id: string;
  readonly key: string;
  /** The issue's own attachments' ids, in order. */
  readonly attachmentIds: readonly string[];
  readonly comments: readonly { readonly id: string; readonly attachmentIds: readonly string[] }[];
}

/** Writes `issue`, its comments and attachments in one transaction; `updatedAt` is the last comment's time. */
export async function seedIssue(db: Executor, issue: SeedIssue): Promise<SeededIssue> {
  return inTransaction(db, async (trx) => {
    const repo = createIssueRepository(trx);
    const id = randomUUID();
    const comments = issue.comments ?? [];
    await repo.insertIssue({
      id,
      key: issue.key,
      summary: issue.summary,
      description: issue.description,
      reporterAddress: issue.reporter.address,
      reporterName: issue.reporter.name,
      mailServerId: issue.mailServerId ?? null,
      messageId:
        issue.messageId === undefined ? `${randomUUID()}@mail.example.test` : issue.messageId,
      createdAt: issue.createdAt,
      updatedAt: comments.at(-1)?.createdAt ?? issue.createdAt,
    });
    const attach = async (
      list: readonly SeedAttachment[],
      commentId: string | null,
      at: string,
    ) => {
      const ids: string[] = [];
      for (const a of list) {
        const attachmentId = randomUUID();
        await repo.insertAttachment({
          id: attachmentId,
          issueId: id,
          commentId,
          filename: a.filename,
          contentType: a.contentType,
          size: a.content.length,
          content: a.content,
          createdAt: at,
        });
        ids.push(attachmentId);
      }
      return ids;
    };
    const attachmentIds = await attach(issue.attachments ?? [], null, issue.createdAt);
    const seeded: { id: string; attachmentIds: string[] }[] = [];
    for (const c of comments) {
      const commentId = randomUUID();
      await repo.insertComment({
        id: commentId,
        issueId: id,
        authorAddress: c.author.address,
        authorName: c.author.name,
        body: c.body,
        messageId: c.messageId === undefined ? `${randomUUID()}@mail.example.test` : c.messageId,
        createdAt: c.createdAt,
      });
      seeded.push({
        id: commentId,
        attachmentIds: await attach(c.attachments ?? [], commentId, c.createdAt),
      });
    }
    return { id, key: issue.key, attachmentIds, comments: seeded };
  });
}

/** Markup a sender may put anywhere in a mail: on a page it must show as these very characters. */
export const PAYLOADS = Object.freeze({
  script: '<script>window.__pwned=1</script>',
  img: '<img src=x onerror="window.__pwned=2;alert(2)">',
  svg: '"><svg onload=alert(3)>',
  url: 'https://evil.example/login?next=javascript:alert(4)',
});

/**
 * An issue whose every field a sender controls carries markup: summary, description, the
 * reporter's and commenter's names, a comment body and an attachment's name (an HTML file
 * that would run if it were ever shown inline).
 */
export function hostileIssue(
  key: string,
  createdAt: string,
  mailServerId: string | null = null,
): SeedIssue {
  const { script, img, svg, url } = PAYLOADS;
  return {
    key,
    summary: `Printer ${script} ${img}`,
    description: `Line one ${svg}\n\n  indented ${script}\nSee ${url}\n${img}`,
    reporter: { address: 'mallory@example.test', name: `${svg} Mallory` },
    createdAt,
    mailServerId,
    messageId: 'hostile@example.test',
    attachments: [
      {
        filename: `${svg}.html`,
        contentType: 'text/html',
        content: Buffer.from(`<!doctype html>${script}${img}`),
      },
    ],
    comments: [
      {
        author: { address: 'eve@example.test', name: `<b>Eve</b> ${img}` },
        body: `${img}\n${script}\n${url}`,
        createdAt: new Date(Date.parse(createdAt) + 60_000).toISOString(),
        attachments: [
          {
            filename: `${img}.txt`,
            contentType: 'text/plain',
            content: Buffer.from('plain text'),
          },
        ],
      },
    ],
  };
}
