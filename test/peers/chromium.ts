import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (PEERS.md); `npx playwright install` does not work on these machines. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The launch flags of PEERS.md: headless, and nothing that reaches past the loopback. The
 * resolver rule makes every name but `localhost` and `127.0.0.1` unresolvable, which also
 * catches redirect hops that request interception would not see.
 */
export const CHROMIUM_FLAGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
]);

export interface LaunchBrowserOptions {
  /**
   * Server certificates (PEM) the browser accepts although no trusted CA signed them: each
   * one's public key is pinned with `--ignore-certificate-errors-spki-list`, so any other
   * certificate error still fails the page (certificate errors are never ignored wholesale).
   */
  readonly trustCertificates?: readonly string[];
  /** The browser binary (default `CHROMIUM_PATH`); a missing one fails with what to run. */
  readonly executablePath?: string;
}

/** A running Chromium with a fresh profile; `close()` ends it and removes the profile. */
export interface LaunchedBrowser {
  /** Opens isolated contexts (`browser.newContext()`), one per simulated administrator. */
  readonly browser: Browser;
  /** The fresh `--user-data-dir`, inside a temporary folder that `close()` removes. */
  readonly userDataDir: string;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium through playwright-core with the PEERS.md flags and a fresh
 * profile in a temporary folder.
 *
 * Playwright refuses `--user-data-dir` among the arguments and hands it over itself when
 * launching a persistent context; that context's browser still opens further, isolated
 * contexts, so the profile folder is ours to create and to remove. HOME and the XDG
 * folders point into the same temporary folder: what Chromium keeps beside the profile
 * (the crash database under ~/.config, caches) goes away with it too.
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<LaunchedBrowser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  if (!existsSync(executablePath)) {
    // Never a silent skip: the test fails and names the command that installs the browser.
    throw new Error(
      `Chromium is not installed (no ${executablePath}): run scripts/test, which installs chromium and fonts-vlgothic`,
    );
  }
  const root = await mkdtemp(join(tmpdir(), 'outlink-chromium-'));
  // A run stopped before `close()` (a signal: playwright then ends Chromium and exits)
  // still leaves no profile behind.
  const removeOnExit = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const userDataDir = join(root, 'profile');
  const home = join(root, 'home');
  const pins = (options.trustCertificates ?? []).map(spkiHash);
  const args = [
    ...CHROMIUM_FLAGS,
    ...(pins.length ? [`--ignore-certificate-errors-spki-list=${pins.join(',')}`] : []),
  ];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args,
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        XDG_CACHE_HOME: join(home, '.cache'),
      },
    });
  } catch (error) {
    process.removeListener('exit', removeOnExit);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const browser = context.browser();
  if (!browser) {
    await context.close();
    process.removeListener('exit', removeOnExit);
    await rm(root, { recursive: true, force: true });
    throw new Error('Chromium started without a browser object');
  }
  let closing: Promise<void> | undefined;
  return {
    browser,
    userDataDir,
    close: () => {
      closing ??= (async () => {
        try {
          // Closing a persistent context ends the browser process too.
          await context.close();
        } finally {
          process.removeListener('exit', removeOnExit);
          await rm(root, { recursive: true, force: true, maxRetries: 3 });
        }
      })();
      return closing;
    },
  };
}

/**
 * The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: the form Chromium's
 * `--ignore-certificate-errors-spki-list` expects.
 */
export function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
