import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOutlinkError } from '../../domain/errors.js';
import { EventTypes } from '../../domain/events.js';
import {
  ISSUE_REPORTER_MAX_LENGTH,
  ISSUE_SEARCH_MAX_LENGTH,
  isIssueKey,
} from '../../domain/issue.js';
import { isIpLiteralHost } from '../../domain/link.js';
import { LANG_COOKIE } from '../../i18n/locale.js';
import { presentConnection } from '../../presenters/connections.js';
import { presentIssue, presentIssueSummary } from '../../presenters/issues.js';
import { presentHandlerStatus } from '../../presenters/mail-handler.js';
import { presentMailServer } from '../../presenters/mail-servers.js';
import type { LinkView } from '../../schemas/links.js';
import type { MailServerView } from '../../schemas/mail-servers.js';
import { decodeEventCursor } from '../../services/events.js';
import type { Services } from '../../services/index.js';
import { assetUrls, loadAssets } from '../../ui/assets.js';
import { type PageContext, type PageUser, pageContext } from '../../ui/context.js';
import type { Html } from '../../ui/html.js';
import { accountPage, notFoundPage } from '../../ui/pages/account.js';
import { apiTokensPage } from '../../ui/pages/api-tokens.js';
import { clusterPage } from '../../ui/pages/cluster.js';
import { eventsPage } from '../../ui/pages/events.js';
import { issueDetailPage } from '../../ui/pages/issue-detail.js';
import { issuesPage } from '../../ui/pages/issues-list.js';
import { linkDetailPage } from '../../ui/pages/link-detail.js';
import type { LinkDialogSettings } from '../../ui/pages/link-dialog.js';
import { linksListPage } from '../../ui/pages/links-list.js';
import { loginPage, safeNext } from '../../ui/pages/login.js';
import type { MailServerLinkChoice } from '../../ui/pages/mail-server-dialog.js';
import { mailServersPage } from '../../ui/pages/mail-servers.js';
import { SESSION_COOKIE } from '../plugins/auth.js';
import { uiStaticRoutes } from './ui-static.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LANG_COOKIE_MAX_AGE = 365 * 24 * 3600;
const PAGE_SIZE = 50;

/** What the pages read: the same services as the API, no more. */
export type UiServices = Pick<
  Services,
  | 'config'
  | 'cluster'
  | 'clock'
  | 'users'
  | 'links'
  | 'connections'
  | 'events'
  | 'mailServers'
  | 'mailHandler'
  | 'apiTokens'
  | 'issues'
>;

/** A page handler's inputs once the request is known to come from a signed-in admin. */
type PageHandler = (
  ctx: PageContext,
  req: FastifyRequest,
  reply: FastifyReply,
) => Promise<Html | undefined>;

/**
 * The administration pages (DESIGN §8 UI routes): server-rendered HTML over the same
 * services as the API; the client script calls the JSON API for every change. Pages are
 * outside `/api/v1`; a request without a session is sent to `/login?next=…`.
 */
export function uiRoutes(app: FastifyInstance, services: UiServices): void {
  const assets = loadAssets();
  const urls = assetUrls(assets);
  uiStaticRoutes(app, assets);
  const { config } = services;
  const settings: LinkDialogSettings = {
    baseUrl: config.baseUrl.href,
    baseUrlIsHttps: config.baseUrlIsHttps,
    baseUrlIsIpLiteral: isIpLiteralHost(config.baseUrl.hostname),
  };

  const contextFor = (req: FastifyRequest, reply: FastifyReply, user?: PageUser) => {
    const { locale, remember } = req.localeChoice;
    if (remember) {
      reply.setCookie(LANG_COOKIE, locale, {
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'lax',
        maxAge: LANG_COOKIE_MAX_AGE,
      });
    }
    return pageContext({ locale, url: req.url, user, assets: urls, now: services.clock.now() });
  };

  const currentUser = async (req: FastifyRequest): Promise<PageUser | undefined> => {
    const token = req.cookies[SESSION_COOKIE];
    if (!token) return undefined;
    const session = await services.users.resolveSession(token);
    return session ? { name: session.username, csrfToken: session.csrfToken } : undefined;
  };

  const send = (reply: FastifyReply, page: Html, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      // Pages carry the session's CSRF token: never cached, never stored.
      .header('cache-control', 'no-store')
      .send(page.value);

  /** Registers an admin page: signed out → /login?next=<this page>. */
  const page = (url: string, handler: PageHandler) => {
    app.get(url, { schema: { hide: true } }, async (req, reply) => {
      const user = await currentUser(req);
      const ctx = contextFor(req, reply, user);
      if (!user) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`);
      const out = await handler(ctx, req, reply);
      if (out === undefined) return reply;
      return send(reply, out);
    });
  };
  const query = (req: FastifyRequest, name: string): string | undefined => {
    const value = (req.query as Record<string, unknown>)[name];
    return typeof value === 'string' && value.length > 0 && value.length <= 2048
      ? value
      : undefined;
  };
  const notFound = (ctx: PageContext, reply: FastifyReply) => {
    send(reply, notFoundPage(ctx), 404);
    return undefined;
  };

  app.get('/', { schema: { hide: true } }, async (req, reply) =>
    reply.redirect((await currentUser(req)) ? '/admin/applinks' : '/login'),
  );
  app.get('/admin', { schema: { hide: true } }, async (_req, reply) =>
    reply.redirect('/admin/applinks'),
  );

  app.get('/login', { schema: { hide: true } }, async (req, reply) => {
    const user = await currentUser(req);
    const ctx = contextFor(req, reply);
    const next = safeNext(query(req, 'next'));
    if (user) return reply.redirect(next);
    const notice = query(req, 'notice');
    return send(
      reply,
      loginPage(ctx, {
        next,
        notice: notice === 'passwordChanged' || notice === 'signedOut' ? notice : undefined,
      }),
    );
  });

  const linksList =
    (openCreate: boolean): PageHandler =>
    async (ctx, req) => {
      const cursor = query(req, 'cursor');
      // A stale or hand-typed cursor shows the first page rather than a JSON error.
      const list = await services.links
        .list({ limit: PAGE_SIZE, cursor })
        .catch((error: unknown) => {
          if (cursor && isOutlinkError(error) && error.code === 'field_invalid') {
            return services.links.list({ limit: PAGE_SIZE });
          }
          throw error;
        });
      return linksListPage(ctx, {
        links: list.items,
        nextCursor: list.nextCursor,
        settings,
        openCreate,
      });
    };
  page('/admin/applinks', linksList(false));
  page('/admin/applinks/new', linksList(true));

  page('/admin/applinks/:id', async (ctx, req, reply) => {
    const { id } = req.params as { id: string };
    if (!UUID.test(id)) return notFound(ctx, reply);
    try {
      const link = await services.links.get(id);
      const connections = (await services.connections.list(id)).map((c) =>
        presentConnection(ctx.locale, c),
      );
      const [{ items: events }, servers] = await Promise.all([
        services.events.list({ linkId: id, limit: 10 }),
        allMailServers(services),
      ]);
      return linkDetailPage(ctx, {
        link,
        connections,
        events,
        settings,
        consumers: consumersOf(servers, id),
        outgoing: servers
          .filter((s) => s.protocol === 'smtp')
          .map((s) => ({ id: s.id, name: s.name })),
      });
    } catch (error) {
      if (isOutlinkError(error) && error.code === 'link_not_found') return notFound(ctx, reply);
      throw error;
    }
  });

  page('/admin/mail-servers', async (ctx, req) => {
    const cursor = query(req, 'cursor');
    // A stale or hand-typed cursor shows the first page rather than a JSON error.
    const [list, links, all] = await Promise.all([
      services.mailServers.list({ limit: PAGE_SIZE, cursor }).catch((error: unknown) => {
        if (cursor && isOutlinkError(error) && error.code === 'field_invalid') {
          return services.mailServers.list({ limit: PAGE_SIZE });
        }
        throw error;
      }),
      allLinks(services),
      allMailServers(services),
    ]);
    const handlers = await services.mailHandler.statuses(list.items.map((s) => s.id));
    return mailServersPage(ctx, {
      servers: list.items.map(presentMailServer),
      nextCursor: list.nextCursor,
      links: links.map(linkChoice),
      outgoing: all.filter((s) => s.protocol === 'smtp').map((s) => ({ id: s.id, name: s.name })),
      handlers: new Map(
        handlers.map((h) => [h.mailServerId, presentHandlerStatus(ctx.locale, h)] as const),
      ),
    });
  });

  page('/admin/issues', async (ctx, req) => {
    // The form's fields cap their length; a longer hand-typed value is cut, not refused.
    const q = query(req, 'q')?.trim().slice(0, ISSUE_SEARCH_MAX_LENGTH) || undefined;
    const reporter =
      query(req, 'reporter')?.trim().slice(0, ISSUE_REPORTER_MAX_LENGTH) || undefined;
    const cursor = query(req, 'cursor');
    const search = { ...(q ? { q } : {}), ...(reporter ? { reporter } : {}), limit: PAGE_SIZE };
    // A stale or hand-typed cursor shows the first page rather than a JSON error.
    let usedCursor = cursor;
    const list = await services.issues
      .list({ ...search, ...(cursor ? { cursor } : {}) })
      .catch((error: unknown) => {
        if (cursor && isOutlinkError(error) && error.code === 'field_invalid') {
          usedCursor = undefined;
          return services.issues.list(search);
        }
        throw error;
      });
    return issuesPage(ctx, {
      issues: list.items.map(presentIssueSummary),
      nextCursor: list.nextCursor,
      filter: { q, reporter, cursor: usedCursor },
    });
  });

  page('/admin/issues/:key', async (ctx, req, reply) => {
    const { key } = req.params as { key: string };
    if (!isIssueKey(key)) return notFound(ctx, reply);
    try {
      return issueDetailPage(ctx, presentIssue(await services.issues.get(key)));
    } catch (error) {
      if (isOutlinkError(error) && error.code === 'issue_not_found') return notFound(ctx, reply);
      throw error;
    }
  });

  page('/admin/api-tokens', async (ctx) => {
    const [tokens, links] = await Promise.all([services.apiTokens.list(), linkNames(services)]);
    return apiTokensPage(ctx, { tokens, links });
  });

  page('/admin/cluster', async (ctx) =>
    clusterPage(ctx, {
      nodes: await services.cluster.list(),
      leaseSeconds: services.config.leaseSeconds,
    }),
  );

  page('/admin/events', async (ctx, req) => {
    const type = EventTypes.find((t) => t === query(req, 'type'));
    const linkParam = query(req, 'linkId');
    const linkId = linkParam && UUID.test(linkParam) ? linkParam : undefined;
    const cursorParam = query(req, 'cursor');
    const after = cursorParam ? decodeEventCursor(cursorParam) : undefined;
    const [{ items, nextCursor }, links] = await Promise.all([
      services.events.list({ limit: PAGE_SIZE, type, linkId, cursor: after }),
      linkNames(services),
    ]);
    return eventsPage(ctx, {
      events: items,
      nextCursor,
      types: EventTypes,
      links,
      filter: { type, linkId, cursor: after === undefined ? undefined : cursorParam },
    });
  });

  page('/admin/account', async (ctx) => accountPage(ctx));
}

/** Every link (up to 2000), for the mail server dialog's link and connection pickers. */
async function allLinks(services: Pick<Services, 'links'>): Promise<LinkView[]> {
  const links: LinkView[] = [];
  let cursor: string | undefined;
  do {
    const page = await services.links.list({ limit: 200, cursor });
    links.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && links.length < 2000);
  return links;
}

function linkChoice(link: LinkView): MailServerLinkChoice {
  return {
    id: link.id,
    name: link.name,
    provider: link.provider,
    connections: link.connections.map((c) => ({ id: c.id, account: c.account, status: c.status })),
  };
}

/**
 * Every mail server (up to 2000), for naming each connection's consumers and offering the
 * outgoing ones for acknowledgements.
 */
async function allMailServers(services: Pick<Services, 'mailServers'>): Promise<MailServerView[]> {
  const servers: MailServerView[] = [];
  let cursor: string | undefined;
  do {
    const page = await services.mailServers.list({ limit: 200, cursor });
    servers.push(...page.items.map(presentMailServer));
    cursor = page.nextCursor;
  } while (cursor && servers.length < 2000);
  return servers;
}

/** The mail servers that log in with each connection of the link `linkId`. */
function consumersOf(
  servers: readonly MailServerView[],
  linkId: string,
): Map<string, { id: string; name: string }[]> {
  const byConnection = new Map<string, { id: string; name: string }[]>();
  for (const s of servers) {
    const auth = s.authentication;
    if (auth.method !== 'oauth2' || auth.linkId !== linkId) continue;
    const list = byConnection.get(auth.connectionId) ?? [];
    list.push({ id: s.id, name: s.name });
    byConnection.set(auth.connectionId, list);
  }
  return byConnection;
}

/** Every link's id and name, for pickers and for naming links in tables. */
async function linkNames(
  services: Pick<Services, 'links'>,
): Promise<{ id: string; name: string }[]> {
  const names: { id: string; name: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await services.links.list({ limit: 200, cursor });
    names.push(...page.items.map((l) => ({ id: l.id, name: l.name })));
    cursor = page.nextCursor;
  } while (cursor && names.length < 2000);
  return names;
}
