import {
  ISSUE_REPORTER_MAX_LENGTH,
  ISSUE_SEARCH_MAX_LENGTH,
  issuePagePath,
} from '../../domain/issue.js';
import type { IssueSummaryView } from '../../schemas/issues.js';
import { cell, pageHeader, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { attrs, type Html, html } from '../html.js';
import { layout } from '../layout.js';
import { personText } from './issue-detail.js';

/** What the issues page shows: one page of issues and the search it answers. */
export interface IssuesPageData {
  readonly issues: readonly IssueSummaryView[];
  readonly nextCursor?: string;
  readonly filter: { readonly q?: string; readonly reporter?: string; readonly cursor?: string };
}

/**
 * The issues made from email, newest first, searchable by text and reporter, a page at a
 * time. Summaries and names are the senders' words: escaped like everything else, never
 * trusted as markup.
 */
export function issuesPage(ctx: PageContext, data: IssuesPageData): Html {
  const { t } = ctx;
  const { filter } = data;
  const searching = Boolean(filter.q || filter.reporter);
  const href = (extra: Record<string, string | undefined>) =>
    issuesHref({ ...filter, cursor: undefined, ...extra });
  const body = html`${pageHeader(t('issues.title'), undefined, t('issues.intro'))}
<form class="filters" method="get" action="/admin/issues" role="search" aria-label="${t('issues.searchLabel')}" data-testid="issues-search">
<div class="field">
<label for="issues-q">${t('issues.q')}</label>
<input ${attrs({
    id: 'issues-q',
    name: 'q',
    type: 'search',
    value: filter.q,
    maxlength: ISSUE_SEARCH_MAX_LENGTH,
    'aria-describedby': 'issues-q-help',
    'data-testid': 'issues-q',
  })}>
<p class="help" id="issues-q-help">${t('issues.qHelp')}</p>
</div>
<div class="field">
<label for="issues-reporter">${t('issues.reporter')}</label>
<input ${attrs({
    id: 'issues-reporter',
    name: 'reporter',
    type: 'email',
    value: filter.reporter,
    maxlength: ISSUE_REPORTER_MAX_LENGTH,
    autocomplete: 'off',
    'data-testid': 'issues-reporter',
  })}>
</div>
<div class="actions">
<button type="submit" class="button-secondary" data-testid="issues-apply">${t('issues.apply')}</button>
${searching ? html`<a href="/admin/issues" class="button button-quiet" data-testid="issues-clear">${t('issues.clear')}</a>` : ''}
</div>
</form>
${
  data.issues.length > 0
    ? issuesTable(ctx, data.issues)
    : searching
      ? html`<p class="empty" data-testid="issues-no-match">${t('issues.noMatch')}</p>`
      : html`<div class="empty" data-testid="issues-empty"><p><strong>${t('issues.emptyTitle')}</strong></p><p>${t('issues.emptyBody')}</p></div>`
}
<nav class="pager" aria-label="${t('pager.label')}">
${filter.cursor ? html`<a href="${href({})}" data-testid="issues-newest">${t('pager.newest')}</a>` : ''}
${data.nextCursor ? html`<a href="${href({ cursor: data.nextCursor })}" data-testid="issues-older">${t('pager.older')}</a>` : ''}
</nav>`;
  return layout(ctx, { title: t('issues.title'), active: 'issues', page: 'issues', body });
}

/** `/admin/issues` with the given search and page. */
export function issuesHref(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const s = query.toString();
  return `/admin/issues${s ? `?${s}` : ''}`;
}

function issuesTable(ctx: PageContext, issues: readonly IssueSummaryView[]): Html {
  const { t } = ctx;
  const col = (k: string) => t(`issues.columns.${k}`);
  return html`<table class="table issues-table" data-testid="issues-table">
<caption class="visually-hidden">${t('issues.title')}</caption>
<thead><tr>${['key', 'summary', 'reporter', 'created', 'updated', 'comments'].map(
    (k) => html`<th scope="col">${col(k)}</th>`,
  )}</tr></thead>
<tbody>${issues.map(
    (issue) => html`<tr data-issue-key="${issue.key}" data-testid="issue-row">
${cell(col('key'), html`<a href="${issuePagePath(issue.key)}" data-testid="issue-key"><code>${issue.key}</code></a>`)}
${cell(
  col('summary'),
  html`<a href="${issuePagePath(issue.key)}" class="issue-summary" data-testid="issue-summary">${
    issue.summary || t('issues.noSummary')
  }</a>${
    issue.attachmentCount > 0
      ? html`<div class="muted small" data-testid="issue-attachments"><span aria-hidden="true">📎 </span>${ctx.tn(
          'issues.attachmentCount',
          issue.attachmentCount,
        )}</div>`
      : ''
  }`,
)}
${cell(
  col('reporter'),
  html`<a href="${issuesHref({ reporter: issue.reporter.address })}" class="issue-person" data-testid="issue-reporter">${personText(
    ctx,
    issue.reporter,
  )}</a>`,
)}
${cell(col('created'), timeTag(ctx, issue.createdAt))}
${cell(col('updated'), timeTag(ctx, issue.updatedAt, 'relative'))}
${cell(col('comments'), html`<span data-testid="issue-comment-count">${issue.commentCount}</span>`)}
</tr>`,
  )}</tbody>
</table>`;
}
