/**
 * Subjects: the reply and forward prefixes mail clients add, in the languages they add them
 * in, and the issue key (`[MAIL-12]`) that ties a reply to its issue. Pure functions.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.5 RFC 5322 §3.6.5 ("Re: ")
 */

/** A valid issue key prefix: 1–10 characters, A–Z first, then A–Z, 0–9 or `_`. */
import { ISSUE_KEY_PREFIX } from '../domain/mail-handler-settings.js';

/** A valid issue key prefix (the domain's rule). */
export const ISSUE_KEY_PREFIX_PATTERN = ISSUE_KEY_PREFIX;

/**
 * Strips reply/forward prefixes, repeatedly and in any mix: Re:, RE:, Re[2]:, Re^2:, Fw:,
 * Fwd:, FW:, AW:, WG:, SV:, VS:, TR:, RV:, Réf:, 回复:, 答复:, 返信:, 転送:, Ｒｅ：/ＲＥ：
 * (full-width), with ':' or full-width '：'. A leading list tag like `[support]` is kept (it
 * may be meaningful), but prefixes after it go too: "Re: [support] Re: Hi" and
 * "[support] Re: Hi" both give "[support] Hi". Collapses white space (full-width too),
 * trims.
 */
export function normalizeSubject(subject: string): string {
  let rest = subject.replace(/\s+/g, ' ').trim();
  // tags are kept with the space the sender put after them ("【重要】請求書" stays unspaced)
  let kept = '';
  for (;;) {
    const prefix = REPLY_PREFIX.exec(rest);
    if (prefix) {
      rest = rest.slice(prefix[0].length);
      continue;
    }
    const tag = LEADING_TAG.exec(rest);
    if (!tag) break;
    kept += tag[0];
    rest = rest.slice(tag[0].length);
  }
  return `${kept}${rest}`.replace(/\s+/g, ' ').trim();
}

/**
 * The issue key a subject names: `[MAIL-12]`, `(MAIL-12)`, or a bare `MAIL-12` as a whole
 * word, for any of the given prefixes (matched case-insensitively, returned upper-case as
 * `MAIL-12`); the leftmost one; null when none. Numbers are positive integers without
 * leading zeros. Prefixes that are not valid ({@link ISSUE_KEY_PREFIX_PATTERN}) are ignored.
 */
export function findIssueKey(subject: string, prefixes: readonly string[]): string | null {
  const pattern = keyPattern(prefixes);
  if (!pattern) return null;
  const match = pattern.exec(subject);
  if (!match) return null;
  return `${(match[1] ?? '').toUpperCase()}-${match[2]}`;
}

/**
 * The issue summary from a subject: normalized, with issue-key tags (`[MAIL-12]`,
 * `(MAIL-12)`, `【MAIL-12】`) removed; '' when nothing remains. A bare key in the text stays:
 * there it is part of what the sender wrote.
 */
export function summaryOf(subject: string, prefixes: readonly string[]): string {
  const normalized = normalizeSubject(subject);
  const alternatives = validPrefixes(prefixes);
  if (alternatives.length === 0) return normalized;
  const tag = compiled(
    `\\[\\s*(?:${alternatives})-[1-9][0-9]*\\s*\\]|\\(\\s*(?:${alternatives})-[1-9][0-9]*\\s*\\)|【\\s*(?:${alternatives})-[1-9][0-9]*\\s*】`,
    'gi',
  );
  // a key tag may hide a prefix behind it ("[MAIL-12] Re: Hi"), so normalize once more
  return normalizeSubject(normalized.replace(tag, ' '));
}

// The prefixes, each optionally numbered ([2], ^2, (2)) and always followed by a colon:
// the colon is what tells "Re: x" from a subject that starts with the word "Re"
const REPLY_PREFIX =
  /^\s*(?:re|fwd?|aw|wg|sv|vs|tr|rv|réf|回复|答复|返信|転送|ｒｅ|ｆｗｄ?)\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*[:：]\s*/iu;

// A list tag such as "[support]" or "【重要】", kept in place but looked past for prefixes
const LEADING_TAG = /^\s*(?:\[[^\]]*\]|【[^】]*】)\s*/u;

function validPrefixes(prefixes: readonly string[]): string {
  return prefixes
    .map((prefix) => prefix.trim().toUpperCase())
    .filter((prefix) => ISSUE_KEY_PREFIX_PATTERN.test(prefix))
    .join('|');
}

/**
 * A key as a whole word: no ASCII letter, digit, `_` or `-` right before or after it, so
 * `XMAIL-1`, `MAIL-12a` and `MAIL-1-2` are not keys, while Japanese text right next to a
 * key (`MAIL-12について`) does not hide it.
 */
function keyPattern(prefixes: readonly string[]): RegExp | null {
  const alternatives = validPrefixes(prefixes);
  if (alternatives.length === 0) return null;
  return compiled(`(?<![A-Za-z0-9_-])(${alternatives})-([1-9][0-9]*)(?![A-Za-z0-9_-])`, 'i');
}

/**
 * The handler asks about every message with the same prefixes: each pattern is compiled once.
 * Only patterns without state are kept (`String.replace` resets a `g` pattern's lastIndex).
 */
const patterns = new Map<string, RegExp>();
function compiled(source: string, flags: 'i' | 'gi'): RegExp {
  const key = `${flags}/${source}`;
  let pattern = patterns.get(key);
  if (!pattern) {
    // Prefixes are few (one per mail server); a map that somehow grew is simply started anew.
    if (patterns.size >= 256) patterns.clear();
    pattern = new RegExp(source, flags);
    patterns.set(key, pattern);
  }
  return pattern;
}
