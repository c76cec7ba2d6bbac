import type { Warning } from '../domain/link.js';
import { type Locale, translate } from '../i18n/i18n.js';
import type { LinkRemovalBody, LinkResponseBody, LinkView } from '../schemas/links.js';
import type { LinkRemoval } from '../services/links.js';
import { presentWarnings } from './warnings.js';

/**
 * A created or updated link as the API and `outlink links create|update --json` show it: the
 * link and what deserves attention, in `locale` (DESIGN §4).
 */
export function presentLinkChange(
  locale: Locale,
  change: { readonly link: LinkView; readonly warnings: readonly Warning[] },
): LinkResponseBody {
  return { ...change.link, warnings: presentWarnings(locale, change.warnings) };
}

/**
 * A deleted link as the API and `outlink links delete` show it: whether its connections'
 * grants were revoked at the provider, and if not, what the administrator should do.
 */
export function presentLinkRemoval(locale: Locale, removal: LinkRemoval): LinkRemovalBody {
  const { status, revoked, failed } = removal.revocation;
  return {
    id: removal.id,
    connections: removal.connections,
    revocation: {
      status,
      revoked,
      failed,
      message: translate(locale, `cli.links.revocation.${status}`, { revoked, failed }),
    },
  };
}
