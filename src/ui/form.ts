import { attrs, type Html, html } from './html.js';

/** One labelled input with its help text and the slot where the API's error appears. */
export interface FieldOptions {
  /** The input's id and name; also the API's `field` whose errors show under it. */
  readonly name: string;
  readonly label: string;
  readonly help?: Html | string;
  readonly value?: string;
  readonly type?: string;
  readonly required?: boolean;
  readonly placeholder?: string;
  readonly autocomplete?: string;
  readonly multiline?: boolean;
  /** Shown as a badge after the label, e.g. "Set" for a stored client secret. */
  readonly badge?: Html;
  /** `data-providers` of the wrapper: the providers this field belongs to. */
  readonly providers?: string;
  readonly extra?: Readonly<Record<string, string | boolean | undefined>>;
}

/** The ids an input's `aria-describedby` names: its help, then its error. */
export function describedBy(name: string, hasHelp: boolean): string {
  return [hasHelp ? `${name}-help` : '', `${name}-error`].filter(Boolean).join(' ');
}

/** A field: label, input (or textarea), help, error slot. */
export function field(options: FieldOptions): Html {
  const { name } = options;
  const common = {
    id: name,
    name,
    required: options.required ?? false,
    placeholder: options.placeholder,
    autocomplete: options.autocomplete,
    'aria-describedby': describedBy(name, Boolean(options.help)),
    'data-testid': `field-${name}`,
    ...options.extra,
  };
  const control = options.multiline
    ? html`<textarea ${attrs({ ...common, rows: 4, spellcheck: 'false' })}>${options.value ?? ''}</textarea>`
    : html`<input ${attrs({ ...common, type: options.type ?? 'text', value: options.value })}>`;
  return html`<div ${attrs({ class: 'field', 'data-providers': options.providers })}>
<label for="${name}">${options.label}${options.required ? html`<span class="required" aria-hidden="true"> *</span>` : ''}${
    options.badge ? html` ${options.badge}` : ''
  }</label>
${control}
${options.help ? html`<p class="help" id="${name}-help">${options.help}</p>` : ''}
${errorSlot(name)}
</div>`;
}

/** Where the client script writes the API's error for `name` (code and message). */
export function errorSlot(name: string): Html {
  return html`<p class="field-error" id="${name}-error" data-error-for="${name}" data-testid="error-${name}" hidden></p>`;
}

/** The form-level error box, for errors that name no field. */
export function formError(id: string): Html {
  return html`<div class="form-error" id="${id}" role="alert" data-testid="${id}" hidden></div>`;
}
