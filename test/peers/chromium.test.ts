import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchBrowser } from './chromium.js';

describe('the Chromium peer', () => {
  it('fails, naming scripts/test, when Chromium is not installed', async () => {
    const missing = '/nonexistent/outlink-test/chromium';
    await assert.rejects(launchBrowser({ executablePath: missing }), {
      message: `Chromium is not installed (no ${missing}): run scripts/test, which installs chromium and fonts-vlgothic`,
    });
  });
});
