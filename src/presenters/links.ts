import type { Warning } from '../domain/link.js';
import type { Locale } from '../i18n/i18n.js';
import type { LinkResponseBody, LinkView } from '../schemas/links.js';
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
