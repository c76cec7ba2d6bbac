/**
 * Issues made from email (DESIGN §8, issue 10 item 8): how their keys look, how long a
 * search may be, and where an issue's page is. Everything an issue holds came from a
 * stranger's mail: it is data to show as text, never markup or a type to trust.
 */

/**
 * An issue key as a client may type it: the handler's prefix (a letter, then up to nine
 * letters, digits or `_`; `ISSUE_KEY_PREFIX`), a dash, and a number from 1 without leading
 * zeros. Keys are stored upper-case and found without regard to case.
 */
export const ISSUE_KEY_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,9}-[1-9][0-9]{0,9}$';

/** The longest key `ISSUE_KEY_PATTERN` allows: 10 + 1 + 10 characters. */
export const ISSUE_KEY_MAX_LENGTH = 21;

/** The longest text search (`?q=`) and reporter address (`?reporter=`) an issue list takes. */
export const ISSUE_SEARCH_MAX_LENGTH = 200;
export const ISSUE_REPORTER_MAX_LENGTH = 320;

/** Whether `key` is an issue key (`MAIL-12`, `mail-12`). */
export function isIssueKey(key: string): boolean {
  return key.length <= ISSUE_KEY_MAX_LENGTH && new RegExp(ISSUE_KEY_PATTERN).test(key);
}

/** The path of an issue's page in the administration UI. */
export function issuePagePath(key: string): string {
  return `/admin/issues/${encodeURIComponent(key)}`;
}

/** The absolute URL of an issue's page under the base URL (webhook payloads carry it). */
export function issuePageUrl(baseUrl: URL, key: string): string {
  return `${baseUrl.href.replace(/\/+$/, '')}${issuePagePath(key)}`;
}
