/**
 * The issue resource's API shapes (DESIGN §8): the list's query, an issue in the list and
 * in full, and the path parameters. Every text in an issue (summary, description, bodies,
 * names, filenames, content types) is the sender's: clients show it as text.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  ISSUE_KEY_MAX_LENGTH,
  ISSUE_KEY_PATTERN,
  ISSUE_REPORTER_MAX_LENGTH,
  ISSUE_SEARCH_MAX_LENGTH,
} from '../domain/issue.js';
import { Nullable } from './common.js';

const IssueKey = Type.String({
  pattern: ISSUE_KEY_PATTERN,
  maxLength: ISSUE_KEY_MAX_LENGTH,
  description: 'The issue key, e.g. MAIL-12 (any case)',
});

/** `/api/v1/issues/:key`. */
export const IssueParams = Type.Object({ key: IssueKey });

/** `/api/v1/issues/:key/attachments/:id`. */
export const AttachmentParams = Type.Object({
  key: IssueKey,
  id: Type.String({ format: 'uuid', maxLength: 36, description: 'The attachment id' }),
});

/** `GET /api/v1/issues?q=&reporter=&limit=&cursor=`; an empty `q` or `reporter` filters nothing. */
export const IssueQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: ISSUE_SEARCH_MAX_LENGTH,
        description:
          'Text in the key, summary, description or reporter name (case-insensitive for ASCII)',
      }),
    ),
    reporter: Type.Optional(
      Type.String({
        maxLength: ISSUE_REPORTER_MAX_LENGTH,
        description: "The reporter's address, exactly (case-insensitive)",
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Default 50' })),
    cursor: Type.Optional(
      Type.String({ maxLength: 512, description: "A previous page's nextCursor" }),
    ),
  },
  { additionalProperties: false },
);
export type IssueQueryInput = Static<typeof IssueQuery>;

/** Someone who wrote: the address and the display name the mail carried ("" when none). */
export const Person = Type.Object({
  address: Type.String(),
  name: Type.String({ description: 'The display name from the mail; may be empty' }),
});
export type PersonView = Static<typeof Person>;

/** An issue in the list: newest first. */
export const IssueSummary = Type.Object({
  key: Type.String(),
  summary: Type.String({ description: "The subject of the issue's first mail" }),
  reporter: Person,
  createdAt: Type.String(),
  updatedAt: Type.String({ description: 'When the last comment arrived, else createdAt' }),
  commentCount: Type.Integer({ minimum: 0 }),
  attachmentCount: Type.Integer({ minimum: 0 }),
});
export type IssueSummaryView = Static<typeof IssueSummary>;

/** A comment: a reply to the issue's thread, oldest first. */
export const Comment = Type.Object({
  id: Type.String(),
  author: Person,
  body: Type.String({ description: 'The reply text, quoted history and signature removed' }),
  createdAt: Type.String(),
  messageId: Nullable(Type.String({ description: 'The Message-ID of its mail, without <>' })),
});

/** An attachment's facts; its bytes are at `/api/v1/issues/:key/attachments/:id`. */
export const Attachment = Type.Object({
  id: Type.String(),
  filename: Type.String(),
  contentType: Type.String({
    description: 'As the sender declared it: untrusted (downloads are application/octet-stream)',
  }),
  size: Type.Integer({ minimum: 0, description: 'Bytes' }),
  commentId: Nullable(
    Type.String({ description: "The comment it came with; null: the issue's own mail" }),
  ),
});

/** An issue in full (DESIGN §8). */
export const Issue = Type.Object({
  key: Type.String(),
  summary: Type.String({ description: "The subject of the issue's first mail" }),
  description: Type.String({
    description: 'The text of the first mail, quoted history and signature removed',
  }),
  reporter: Person,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  comments: Type.Array(Comment),
  attachments: Type.Array(Attachment),
  source: Type.Object({
    mailServerId: Nullable(Type.String({ description: 'The mail server its mail came from' })),
    mailServerName: Type.Optional(
      Type.String({ description: 'Absent when that mail server was deleted' }),
    ),
    messageId: Nullable(Type.String({ description: 'The Message-ID of its mail, without <>' })),
  }),
});
export type IssueView = Static<typeof Issue>;
