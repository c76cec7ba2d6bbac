// Copies non-TypeScript assets (i18n catalogs, static UI files) next to the compiled code.
import { cpSync, existsSync } from 'node:fs';

for (const dir of ['i18n', 'ui/static']) {
  if (existsSync(`src/${dir}`)) {
    cpSync(`src/${dir}`, `dist/${dir}`, { recursive: true, filter: (f) => !f.endsWith('.ts') });
  }
}
