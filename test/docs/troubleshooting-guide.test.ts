import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Locales, translate } from '../../src/i18n/i18n.js';
import { catalogListing } from '../../src/oauth/provider-errors.js';
import { GUIDE_FILES, troubleshootingGuide } from '../../src/presenters/troubleshooting-guide.js';
import { mailRefusalCatalog } from '../../src/providers/mail-refusal-catalog.js';

/**
 * The troubleshooting guide (issue 13 item 7) is generated from the error catalog: the
 * committed files must be exactly what the catalog generates, so that the guide and the
 * product never disagree. After changing the catalog, run `npm run docs:troubleshooting`.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('docs/troubleshooting*.md, generated from the error catalog', () => {
  for (const locale of Locales) {
    it(`${GUIDE_FILES[locale]} is what the catalog generates (npm run docs:troubleshooting)`, async () => {
      const committed = await readFile(`${root}${GUIDE_FILES[locale]}`, 'utf8');
      assert.equal(committed, troubleshootingGuide(locale));
    });

    it(`${locale}: has every catalog entry with its cause and remedy`, () => {
      const guide = troubleshootingGuide(locale);
      for (const entry of catalogListing) {
        assert.ok(guide.includes(`(\`${entry.id}\`)`), entry.id);
        assert.ok(guide.includes(translate(locale, `providerErrors.${entry.id}.cause`)), entry.id);
        assert.ok(guide.includes(translate(locale, `providerErrors.${entry.id}.remedy`)), entry.id);
      }
      for (const entry of mailRefusalCatalog) {
        assert.ok(guide.includes(`(\`${entry.id}\`)`), entry.id);
        assert.ok(guide.includes(translate(locale, `mail.refusals.${entry.id}`)), entry.id);
        assert.ok(guide.includes(entry.example.answer), entry.id);
      }
    });
  }

  it('the Japanese guide is in Japanese, the English one in English', () => {
    assert.match(troubleshootingGuide('ja'), /^# トラブルシューティング$/m);
    assert.match(troubleshootingGuide('en'), /^# Troubleshooting$/m);
    assert.ok(!/[\u3040-\u30ff]/.test(troubleshootingGuide('en').replace('日本語版', '')));
  });

  it("the script's --check fails on a guide that differs", async () => {
    const run = promisify(execFile);
    const ok = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/troubleshooting.ts', '--check'],
      {
        cwd: root,
      },
    );
    assert.equal(ok.stderr, '');
  });
});
