/**
 * Text from outside (account names, mail subjects, providers' and servers' words, link
 * names) must not drive the terminal: an escape sequence could clear the screen, rewrite
 * earlier lines, retitle the window or hide text. Two layers, one module:
 * `printable` for a value shown on one line (a table cell, a provider's message), and
 * `terminalSafe`, which every line the CLI writes goes through, whatever it holds.
 */

import { ESCAPE_SEQUENCE } from '../domain/escapes.js';

/** C0 controls, DEL and C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Invisible format characters that reorder or hide text without being controls to the
 * terminal: the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069) and marks (U+200E, U+200F, U+061C) — "Trojan Source", CVE-2021-42574 —
 * which can make `evil.example` read as `elpmaxe.live` or flip the columns of a table;
 * the zero-width space, word joiner, invisible operators, deprecated format characters and
 * byte order mark, which hide text; and the Unicode line and paragraph separators, which
 * some terminals break lines on. The zero-width joiner and non-joiner stay: emoji and
 * Persian script need them and they reorder nothing.
 */
const INVISIBLE =
  /[\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g;

/** Line and paragraph separators, which a one-line value must not break on. */
const LINE_SEPARATOR = /[\u2028\u2029]/g;

/** C0 controls but newline and tab, DEL, C1 controls and the invisible format characters. */
const CONTROL_BUT_LAYOUT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g;

/**
 * A value from outside, for one line: escape sequences removed, every other control
 * character (newlines and Unicode line separators too, which could forge a line of
 * output) blanked, and the invisible format characters (bidirectional overrides …) removed.
 */
export function printable(text: string): string {
  return text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(CONTROL, ' ')
    .replace(LINE_SEPARATOR, ' ')
    .replace(INVISIBLE, '');
}

/**
 * What the CLI writes, as a last guard: any control character but newline and tab, and
 * any invisible format character (bidirectional overrides …), is written as its JSON
 * escape (`\u001b`, `\u202e`). JSON output stays valid and means the same
 * (`JSON.stringify` escapes C0 already but leaves DEL and C1 raw); plain text shows the
 * character instead of obeying it.
 */
export function terminalSafe(text: string): string {
  return text.replace(
    CONTROL_BUT_LAYOUT,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
