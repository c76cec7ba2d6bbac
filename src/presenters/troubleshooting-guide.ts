/**
 * The troubleshooting guide (issue 13 item 7), generated from the error catalog itself: the
 * provider errors (`oauth/provider-errors.ts` with each provider's rules) and the mail servers'
 * refusals (`providers/mail-refusal-catalog.ts`), with their causes and remedies from the i18n
 * catalogs. `npm run docs:troubleshooting` writes it to `docs/troubleshooting.md` and
 * `docs/troubleshooting.ja.md`; a test fails when the committed files differ from this output.
 */
import { type Locale, translate } from '../i18n/i18n.js';
import { type CatalogListing, catalogListing, TransientIds } from '../oauth/provider-errors.js';
import { type MailRefusalEntry, mailRefusalCatalog } from '../providers/mail-refusal-catalog.js';

/** The guide's file under `docs/` per language. */
export const GUIDE_FILES: Readonly<Record<Locale, string>> = Object.freeze({
  en: 'docs/troubleshooting.md',
  ja: 'docs/troubleshooting.ja.md',
});

/** The whole guide in one language, as Markdown. */
export function troubleshootingGuide(locale: Locale): string {
  const t = (key: string, params: Record<string, string> = {}) =>
    translate(locale, `guide.${key}`, params);
  const other = locale === 'en' ? 'ja' : 'en';
  const lines: string[] = [
    `<!-- ${t('generated')} -->`,
    '',
    `# ${t('title')}`,
    '',
    `[${t('otherLanguage')}](${GUIDE_FILES[other].replace('docs/', '')})`,
    '',
    t('intro'),
    '',
    `## ${t('sections.where')}`,
    '',
    t('where'),
    '',
  ];
  for (const provider of ['microsoft', 'google', 'any'] as const) {
    lines.push(`## ${t(`sections.provider.${provider}`)}`, '');
    for (const entry of catalogListing.filter((e) => e.provider === provider)) {
      lines.push(...providerEntry(locale, entry), '');
    }
  }
  lines.push(`## ${t('sections.transient')}`, '', t('transient'), '');
  for (const id of Object.values(TransientIds)) {
    lines.push(
      `- \`${id}\`: ${translate(locale, `providerErrors.${id}.cause`)} ${translate(locale, `providerErrors.${id}.remedy`)}`,
    );
  }
  lines.push('');
  for (const server of ['gmail', 'exchange_online', 'standard'] as const) {
    lines.push(`## ${t(`sections.mail.${server}`)}`, '');
    for (const entry of mailRefusalCatalog.filter((e) => e.server === server)) {
      lines.push(...mailEntry(locale, entry), '');
    }
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** One provider error: what the provider answers, whose fault it is, cause and remedy. */
function providerEntry(locale: Locale, entry: CatalogListing): string[] {
  const t = (key: string) => translate(locale, `guide.${key}`);
  const title = entry.code ? `AADSTS${entry.code}` : entry.examples[0]!.error;
  return [
    `### ${title} (\`${entry.id}\`)`,
    '',
    `- **${t('labels.seen')}**`,
    ...entry.examples.map(
      (e) => `  - \`${e.error}\`${e.description ? `: ${shown(e.description)}` : ''}`,
    ),
    `- **${t('labels.scope')}** ${t(`scopes.${entry.scope}`)}`,
    `- **${t('labels.cause')}** ${translate(locale, `providerErrors.${entry.id}.cause`)}`,
    `- **${t('labels.remedy')}** ${translate(locale, `providerErrors.${entry.id}.remedy`)}`,
  ];
}

/** One mail server answer: the exchange on the wire, cause and remedy. */
function mailEntry(locale: Locale, entry: MailRefusalEntry): string[] {
  const t = (key: string) => translate(locale, `guide.${key}`);
  const { example } = entry;
  const placeholders = {
    username: t('placeholders.username'),
    account: t('placeholders.account'),
    protocol: entry.protocols.map((p) => p.toUpperCase()).join(' / '),
  };
  return [
    `### ${example.answer.replace(/^a1 /, '').slice(0, 80)} (\`${entry.id}\`)`,
    '',
    `- **${t('labels.protocols')}** ${placeholders.protocol}`,
    `- **${t('labels.seen')}**`,
    ...(example.challenge
      ? [`  - ${t('labels.challenge')} \`${JSON.stringify(example.challenge)}\``]
      : []),
    `  - \`${example.answer}\``,
    `- **${t('labels.cause')}** ${translate(locale, `mail.refusals.${entry.id}`)}`,
    `- **${t('labels.remedy')}** ${translate(locale, `mail.remedies.${entry.remedy}`, placeholders)}`,
  ];
}

/** A description as the guide shows it: Entra ID's trace and correlation ids left out. */
function shown(description: string): string {
  return description.replace(/ Trace ID:.*$/, '').replaceAll('`', "'");
}
