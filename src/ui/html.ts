/**
 * HTML built from template literals whose interpolations are escaped unless they are
 * already `Html`: the one escaping rule of every page Outlink renders.
 */

/** Markup that is safe to insert as it is: built by `html` or, for trusted text, `raw`. */
export class Html {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What a template may interpolate; `false`, `null` and `undefined` render nothing. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name`, keeps nested `Html` as is. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted markup, never user input: the caller vouches for it. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** `name="value"` pairs for a tag; `false`/`undefined` drop the attribute, `true` keeps its name. */
export function attrs(map: Readonly<Record<string, string | number | boolean | undefined>>): Html {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(map)) {
    if (value === false || value === undefined) continue;
    parts.push(value === true ? name : `${name}="${escapeHtml(String(value))}"`);
  }
  return new Html(parts.join(' '));
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false || value === true) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}
