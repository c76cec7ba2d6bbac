import type { Warning } from '../domain/link.js';
import { type Locale, translate } from '../i18n/i18n.js';

/** A warning as create and update answers carry it (DESIGN §4). */
export interface WarningText {
  readonly code: string;
  readonly message: string;
}

/** `{code, params}` → `{code, message}` in `locale`, from `warnings.<code>`. */
export function presentWarnings(locale: Locale, warnings: readonly Warning[]): WarningText[] {
  return warnings.map((w) => ({
    code: w.code,
    message: translate(locale, `warnings.${w.code}`, w.params),
  }));
}
