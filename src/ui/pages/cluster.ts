import type { ClusterNodeView } from '../../schemas/cluster.js';
import { cell, pageHeader, timeTag } from '../components.js';
import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';

/** The cluster: every node, its version, last heartbeat, status and the work it holds. */
export function clusterPage(
  ctx: PageContext,
  data: { nodes: readonly ClusterNodeView[]; leaseSeconds: number },
): Html {
  const { t } = ctx;
  const body = html`${pageHeader(t('cluster.title'), undefined, t('cluster.intro', { seconds: data.leaseSeconds }))}
<section class="section">
${data.nodes.length === 0 ? html`<p class="muted" data-testid="cluster-empty">${t('cluster.empty')}</p>` : nodesTable(ctx, data.nodes)}
</section>`;
  return layout(ctx, { title: t('cluster.title'), active: 'cluster', page: 'cluster', body });
}

function nodesTable(ctx: PageContext, nodes: readonly ClusterNodeView[]): Html {
  const { t } = ctx;
  const col = (k: string) => t(`cluster.columns.${k}`);
  return html`<table class="table" data-testid="cluster-table">
<caption class="visually-hidden">${t('cluster.title')}</caption>
<thead><tr>${['node', 'role', 'version', 'status', 'started', 'heartbeat', 'holds'].map(
    (k) => html`<th scope="col">${col(k)}</th>`,
  )}</tr></thead>
<tbody>${nodes.map(
    (n) => html`<tr data-node-id="${n.id}" data-status="${n.status}" data-testid="cluster-node">
${cell(col('node'), html`<span class="strong">${n.hostname}</span> <span class="muted">pid ${String(n.pid)}</span>`)}
${cell(col('role'), n.role)}
${cell(col('version'), html`<code>${n.version}</code>`)}
${cell(col('status'), html`<span class="badge badge-node-${n.status}" data-status="${n.status}">${t(`cluster.status.${n.status}`)}</span>`)}
${cell(col('started'), timeTag(ctx, n.startedAt))}
${cell(col('heartbeat'), timeTag(ctx, n.lastHeartbeatAt, 'relative'))}
${cell(
  col('holds'),
  t('cluster.holds', {
    connections: n.holds.connections.length,
    mailServers: n.holds.mailServers.length,
  }),
)}
</tr>`,
  )}</tbody>
</table>`;
}
