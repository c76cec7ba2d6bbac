/**
 * Readable plain text from an HTML body, for mail that has no text/plain part. html-to-text
 * (the converter mailparser itself uses) does the parsing and entity decoding; the options
 * below make its output fit an issue description rather than an 80-column terminal.
 */

import { compile, type HtmlToTextOptions } from 'html-to-text';

/**
 * The text of an HTML body: block elements end lines, tags go, entities are decoded,
 * `<script>`, `<style>` and `<head>` content is dropped, links keep their address in
 * brackets when it differs from their text, images (attachments already) are left out,
 * `<blockquote>` lines get a `> ` prefix so quoted history looks like plain-text quoting.
 * Returns '' when the HTML cannot be converted: a message is never lost over its HTML.
 */
export function htmlToReadableText(html: string): string {
  try {
    return toText(html);
  } catch {
    return '';
  }
}

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
  selector,
  options: { uppercase: false },
}));

// Layout tables (Outlook and most newsletters build whole messages from them) would
// otherwise run their cells together on one line
const CELLS = ['table', 'tr', 'td', 'th'].map((selector) => ({ selector, format: 'block' }));

const OPTIONS: HtmlToTextOptions = {
  // the description keeps the author's own line breaks; wrapping is the viewer's job
  wordwrap: false,
  limits: { maxDepth: 200, maxInputLength: 5_000_000 },
  selectors: [
    ...HEADINGS,
    ...CELLS,
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
  ],
};

// Compiled once: html-to-text's convert() would merge the options and build its selector
// tree again for every message.
const toText = compile(OPTIONS);
