import type { IssueView, PersonView } from '../../schemas/issues.js';
import { pageHeader, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';
import { mailServerAnchor } from './mail-servers.js';

type AttachmentView = IssueView['attachments'][number];

/**
 * One issue: who reported it and from which mail server, its description, its comments in
 * the order they arrived, and its attachments as downloads. Every text here came in an email:
 * it goes through the escaping template and shows as preformatted text, never as markup,
 * and a URL in it stays text (nothing a stranger wrote becomes a link).
 */
export function issueDetailPage(ctx: PageContext, issue: IssueView): Html {
  const { t } = ctx;
  const of = (commentId: string | null) =>
    issue.attachments.filter((a) => a.commentId === commentId);
  const summary = issue.summary || t('issues.noSummary');
  const body = html`<nav class="breadcrumb" aria-label="${t('breadcrumb')}"><a href="/admin/issues">${t(
    'issues.title',
  )}</a> <span aria-hidden="true">›</span> <span aria-current="page">${issue.key}</span></nav>
<article class="issue" data-issue-key="${issue.key}" data-testid="issue-detail">
${pageHeader(html`<span class="issue-key" data-testid="issue-key">${issue.key}</span> <span class="issue-title" data-testid="issue-summary">${summary}</span>`)}
${facts(ctx, issue)}
<section aria-labelledby="description-title" class="section">
<h2 id="description-title">${t('issues.detail.description')}</h2>
${
  issue.description
    ? html`<div class="mail-text" data-testid="issue-description">${issue.description}</div>`
    : html`<p class="muted" data-testid="issue-description-empty">${t('issues.detail.noDescription')}</p>`
}
${attachmentList(ctx, issue.key, of(null), 'issue-attachments')}
</section>
<section aria-labelledby="comments-title" class="section">
<h2 id="comments-title">${t('issues.detail.comments')} <span class="muted small">(${issue.comments.length})</span></h2>
${
  issue.comments.length === 0
    ? html`<p class="muted" data-testid="issue-no-comments">${t('issues.detail.noComments')}</p>`
    : html`<ol class="comments" data-testid="issue-comments">${issue.comments.map(
        (
          c,
        ) => html`<li class="comment" id="comment-${c.id}" data-comment-id="${c.id}" data-testid="issue-comment">
<p class="comment-meta"><span class="comment-author" data-testid="comment-author">${personText(ctx, c.author)}</span> <span aria-hidden="true" class="sep">·</span> ${timeTag(ctx, c.createdAt)}</p>
<div class="mail-text" data-testid="comment-body">${c.body}</div>
${attachmentList(ctx, issue.key, of(c.id), 'comment-attachments')}
</li>`,
      )}</ol>`
}
</section>
</article>`;
  return layout(ctx, { title: `${issue.key} ${summary}`, active: 'issues', page: 'issue', body });
}

/** "Name <address>", the name as the sender wrote it (escaped by the template). */
export function personText(ctx: PageContext, person: PersonView): Html {
  if (!person.name)
    return html`<span class="person-address">${person.address || ctx.t('issues.noName')}</span>`;
  return html`<span class="person-name">${person.name}</span> <span class="person-address muted small">&lt;${person.address}&gt;</span>`;
}

function facts(ctx: PageContext, issue: IssueView): Html {
  const { t } = ctx;
  const row = (label: string, value: Html | string, testid: string) =>
    html`<div class="dl-row"><dt>${label}</dt><dd data-testid="${testid}">${value}</dd></div>`;
  const { source } = issue;
  const server =
    source.mailServerName !== undefined && source.mailServerId
      ? html`<a href="/admin/mail-servers#${mailServerAnchor(source.mailServerId)}">${source.mailServerName}</a>`
      : html`<span class="muted">${source.mailServerId ? t('issues.detail.sourceDeleted') : t('issues.detail.sourceNone')}</span>`;
  return html`<dl class="config issue-facts" data-testid="issue-facts">
${row(t('issues.detail.reporter'), personText(ctx, issue.reporter), 'issue-reporter')}
${row(t('issues.detail.created'), timeTag(ctx, issue.createdAt), 'issue-created')}
${row(t('issues.detail.updated'), timeTag(ctx, issue.updatedAt), 'issue-updated')}
${row(t('issues.detail.source'), server, 'issue-source')}
${row(
  t('issues.detail.messageId'),
  source.messageId
    ? html`<code>${source.messageId}</code>`
    : html`<span class="muted">${t('none')}</span>`,
  'issue-message-id',
)}
</dl>`;
}

/**
 * Download links to the API's attachment route (the session cookie authorizes a GET there);
 * the server answers with `Content-Disposition: attachment`, so a click saves the file and
 * never shows it here.
 */
function attachmentList(
  ctx: PageContext,
  key: string,
  attachments: readonly AttachmentView[],
  testid: string,
): Html {
  if (attachments.length === 0) return html``;
  const { t } = ctx;
  return html`<div class="attachments" data-testid="${testid}">
<h3 class="small">${t('issues.detail.attachments')}</h3>
<ul class="plain-list">${attachments.map(
    (a) => html`<li data-attachment-id="${a.id}" data-testid="attachment">
<a href="/api/v1/issues/${encodeURIComponent(key)}/attachments/${encodeURIComponent(a.id)}" download="" rel="noopener" data-testid="attachment-link"><span aria-hidden="true">📎 </span><span class="attachment-name" data-testid="attachment-name">${a.filename}</span><span class="visually-hidden"> (${t('issues.detail.download')})</span></a>
<span class="muted small">${formatSize(ctx, a.size)} · <code>${a.contentType}</code></span>
</li>`,
  )}</ul>
<p class="help">${t('issues.detail.untrusted')}</p>
</div>`;
}

/** 1,234 bytes → "1.2 kB" / "1.2 kB", in the page's language. */
function formatSize(ctx: PageContext, bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return new Intl.NumberFormat(ctx.locale, {
    style: 'unit',
    unit: units[unit],
    unitDisplay: unit === 0 ? 'long' : 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}
