/**
 * Issues as the API and the UI show them (DESIGN §8): in a list, in full, and an attachment
 * as a download. What the sender wrote stays exactly as it is here; making it harmless is
 * the job of whoever renders it (the pages escape it, a download never runs in the browser).
 */
import type { IssueSummaryView, IssueView } from '../schemas/issues.js';
import type { AttachmentDownload, IssueEntry, IssueListEntry } from '../services/issues.js';

/** An issue in the list. */
export function presentIssueSummary(entry: IssueListEntry): IssueSummaryView {
  return {
    key: entry.key,
    summary: entry.summary,
    reporter: { address: entry.reporterAddress, name: entry.reporterName },
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    commentCount: entry.commentCount,
    attachmentCount: entry.attachmentCount,
  };
}

/** An issue in full, its comments and attachments in the order they arrived. */
export function presentIssue(entry: IssueEntry): IssueView {
  return {
    key: entry.key,
    summary: entry.summary,
    description: entry.description,
    reporter: { address: entry.reporterAddress, name: entry.reporterName },
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    comments: entry.comments.map((c) => ({
      id: c.id,
      author: { address: c.authorAddress, name: c.authorName },
      body: c.body,
      createdAt: c.createdAt,
      messageId: c.messageId,
    })),
    attachments: entry.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      commentId: a.commentId,
    })),
    source: {
      mailServerId: entry.mailServerId,
      ...(entry.mailServerName !== undefined ? { mailServerName: entry.mailServerName } : {}),
      messageId: entry.messageId,
    },
  };
}

/**
 * The headers of an attachment's download. The sender's content type is not trusted (a
 * `text/html` "attachment" would run in Outlink's origin): the bytes are always an
 * `application/octet-stream` download that the browser must not sniff, render, or keep,
 * and were it rendered anyway, a sandbox with no rights at all.
 */
export function downloadHeaders(attachment: AttachmentDownload): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'content-disposition': contentDisposition(attachment.filename),
    'content-length': String(attachment.content.length),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, no-store',
  };
}

/** Longest filename offered, in code points: what file systems take. */
const MAX_FILENAME = 200;

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`: the name
 * without control or format characters (a right-to-left override makes `exe.txt` of
 * `txt.exe`) or path separators; the fallback with every non-ASCII character, `"`, `\` and
 * `%` (which some browsers decode) replaced by `_`.
 * @see https://www.rfc-editor.org/rfc/rfc6266#section-4.3 RFC 6266 §4.3 (filename, filename*)
 * @see https://www.rfc-editor.org/rfc/rfc8187#section-3.2.1 RFC 8187 §3.2.1 (ext-value, attr-char; was RFC 5987)
 */
export function contentDisposition(filename: string): string {
  const name = shorten(
    filename
      // A lone surrogate cannot be encoded as UTF-8.
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
      .replace(/[/\\]/g, '_')
      .trim(),
  );
  const safe = name === '' || name === '.' || name === '..' ? 'attachment' : name;
  const fallback = safe.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  // encodeURIComponent leaves !'()* alone; RFC 8187's attr-char allows only the "!".
  const encoded = encodeURIComponent(safe).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** At most `MAX_FILENAME` code points, keeping a short extension. */
function shorten(name: string): string {
  const chars = [...name];
  if (chars.length <= MAX_FILENAME) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? [...name.slice(dot)] : [];
  return [...chars.slice(0, MAX_FILENAME - extension.length), ...extension].join('');
}
