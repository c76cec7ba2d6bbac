import type { EventView } from '../../schemas/events.js';
import { pageHeader } from '../components.js';
import type { PageContext } from '../context.js';
import { attrs, type Html, html } from '../html.js';
import { layout } from '../layout.js';
import { eventsTable, eventTypeLabel } from './events-table.js';

/** The event log, newest first, filtered by type and link, a page at a time. */
export function eventsPage(
  ctx: PageContext,
  data: {
    events: readonly EventView[];
    nextCursor?: string;
    types: readonly string[];
    links: readonly { id: string; name: string }[];
    filter: { type?: string; linkId?: string; cursor?: string };
  },
): Html {
  const { t } = ctx;
  const { filter } = data;
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ type: filter.type, linkId: filter.linkId, ...extra })) {
      if (v) params.set(k, v);
    }
    const s = params.toString();
    return `/admin/events${s ? `?${s}` : ''}`;
  };
  const body = html`${pageHeader(t('events.title'), undefined, t('events.intro'))}
<form class="filters" method="get" action="/admin/events" data-testid="events-filter">
<div class="field">
<label for="event-type">${t('events.type')}</label>
<select id="event-type" name="type" data-testid="events-type">
<option value="">${t('events.allTypes')}</option>
${data.types.map(
  (type) =>
    html`<option ${attrs({ value: type, selected: type === filter.type })}>${eventTypeLabel(ctx, type)}</option>`,
)}
</select>
</div>
<div class="field">
<label for="event-link">${t('events.link')}</label>
<select id="event-link" name="linkId" data-testid="events-link">
<option value="">${t('events.allLinks')}</option>
${data.links.map((l) => html`<option ${attrs({ value: l.id, selected: l.id === filter.linkId })}>${l.name}</option>`)}
</select>
</div>
<div class="actions"><button type="submit" class="button-secondary" data-testid="events-apply">${t('events.apply')}</button></div>
</form>
${
  data.events.length === 0
    ? html`<p class="empty" data-testid="events-empty">${t('events.empty')}</p>`
    : eventsTable(ctx, data.events, new Map(data.links.map((l) => [l.id, l.name])))
}
<nav class="pager" aria-label="${t('pager.label')}">
${filter.cursor ? html`<a href="${query({})}" data-testid="events-newest">${t('pager.newest')}</a>` : ''}
${data.nextCursor ? html`<a href="${query({ cursor: data.nextCursor })}" data-testid="events-older">${t('pager.older')}</a>` : ''}
</nav>`;
  return layout(ctx, { title: t('events.title'), active: 'events', page: 'events', body });
}
