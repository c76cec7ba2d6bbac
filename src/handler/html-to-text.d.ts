/**
 * The part of html-to-text 10's API the handler uses. The package ships no type
 * declarations and DefinitelyTyped's cover version 9, whose API (`convert`, selectors,
 * formats) version 10 kept; only what `html-text.ts` uses is declared here.
 *
 * @see https://github.com/html-to-text/node-html-to-text#options
 */
declare module 'html-to-text' {
  /** How one kind of element is written out: a built-in format name and its options. */
  export interface SelectorDefinition {
    readonly selector: string;
    readonly format?: string;
    readonly options?: Readonly<Record<string, unknown>>;
  }

  /** Limits that keep hostile HTML from costing unbounded time or stack. */
  export interface HtmlToTextLimits {
    readonly ellipsis?: string;
    readonly maxBaseElements?: number;
    readonly maxChildNodes?: number;
    readonly maxDepth?: number;
    readonly maxInputLength?: number;
  }

  export interface HtmlToTextOptions {
    readonly wordwrap?: number | false | null;
    readonly decodeEntities?: boolean;
    readonly preserveNewlines?: boolean;
    readonly limits?: HtmlToTextLimits;
    readonly selectors?: readonly SelectorDefinition[];
  }

  /** Converts an HTML document or fragment to plain text. */
  export function convert(html: string, options?: HtmlToTextOptions): string;

  /**
   * Prepares a converter for `options` once (`convert` prepares one on every call: merging
   * the options, building the selector decision tree).
   */
  export function compile(options?: HtmlToTextOptions): (html: string) => string;
}
