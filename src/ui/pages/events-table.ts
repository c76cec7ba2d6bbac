import type { EventView } from '../../schemas/events.js';
import { cell, linkDetailHref, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';

/** Event `data` keys shown in the details column, each labelled from the catalog. */
export const SHOWN_DATA = [
  'name',
  'account',
  'provider',
  'username',
  'changed',
  'from',
  'reason',
  'error',
  'eventType',
  'attempt',
  'keyId',
] as const;

/** Events as a table: when, what, who, which link, details. */
export function eventsTable(
  ctx: PageContext,
  events: readonly EventView[],
  linkNames: ReadonlyMap<string, string>,
  options: { showLink: boolean } = { showLink: true },
): Html {
  const { t } = ctx;
  const col = (k: string) => t(`events.columns.${k}`);
  return html`<table class="table table-compact" data-testid="events-table">
<caption class="visually-hidden">${t('events.title')}</caption>
<thead><tr><th scope="col">${col('at')}</th><th scope="col">${col('type')}</th><th scope="col">${col('actor')}</th>${
    options.showLink ? html`<th scope="col">${col('link')}</th>` : ''
  }<th scope="col">${col('details')}</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr data-testid="event-row" data-event-type="${e.type}">
${cell(col('at'), timeTag(ctx, e.at, 'dateTime'))}
${cell(col('type'), html`<span class="event-type event-${e.type.split('.')[0] ?? ''}">${eventTypeLabel(ctx, e.type)}</span>`)}
${cell(col('actor'), e.actor)}
${options.showLink ? cell(col('link'), linkCell(e, linkNames)) : ''}
${cell(col('details'), details(ctx, e.data))}
</tr>`,
  )}</tbody>
</table>`;
}

/** "Link created" for `link.created`; the raw type when the catalog lacks it. */
export function eventTypeLabel(ctx: PageContext, type: string): string {
  const key = `ui.eventTypes.${type}`;
  const text = ctx.t(key);
  return text === key ? type : text;
}

function linkCell(e: EventView, linkNames: ReadonlyMap<string, string>): Html | string {
  if (!e.linkId) return '';
  const name = linkNames.get(e.linkId);
  return name
    ? html`<a href="${linkDetailHref(e.linkId)}">${name}</a>`
    : html`<code>${e.linkId.slice(0, 8)}</code>`;
}

function details(ctx: PageContext, data: Readonly<Record<string, unknown>>): Html {
  const entries = SHOWN_DATA.filter((k) => data[k] !== undefined && data[k] !== null).map(
    (k) => [k, format(data[k])] as const,
  );
  if (entries.length === 0) return html``;
  return html`<dl class="inline-dl">${entries.map(
    ([k, v]) =>
      html`<dt>${ctx.t(`events.data.${k}`)}</dt><dd>${k === 'reason' ? reason(ctx, v) : html`<code>${v}</code>`}</dd>`,
  )}</dl>`;
}

/** A failure id in words when the catalog knows it (`invalid_grant` → its cause). */
function reason(ctx: PageContext, id: string): Html {
  const key = `providerErrors.${id}.cause`;
  const text = ctx.t(key);
  return text === key ? html`<code>${id}</code>` : html`${text} <code>${id}</code>`;
}

function format(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, 200);
  if (Array.isArray(value)) return value.map((v) => format(v)).join(', ');
  return JSON.stringify(value)?.slice(0, 200) ?? '';
}
