/**
 * Writes the troubleshooting guide (docs/troubleshooting.md, docs/troubleshooting.ja.md) from
 * the error catalog: `npm run docs:troubleshooting`. `--check` only compares, and exits 1 when
 * a committed guide differs from what the catalog generates.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Locales } from '../src/i18n/i18n.js';
import { GUIDE_FILES, troubleshootingGuide } from '../src/presenters/troubleshooting-guide.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const locale of Locales) {
  const path = `${root}${GUIDE_FILES[locale]}`;
  const text = troubleshootingGuide(locale);
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  if (check) {
    stale++;
    process.stderr.write(
      `${GUIDE_FILES[locale]} differs from the catalog: run npm run docs:troubleshooting\n`,
    );
  } else {
    await writeFile(path, text);
    process.stdout.write(`wrote ${GUIDE_FILES[locale]}\n`);
  }
}
process.exitCode = stale ? 1 : 0;
