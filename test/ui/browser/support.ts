import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, ConsoleMessage, Locator, Page } from 'playwright-core';
import { buildApp } from '../../../src/http/app.js';
import type { Fetch } from '../../../src/oauth/discovery.js';
import { issueLeaf, testTls } from '../../peers/ca.js';
import { ADMIN_PASSWORD, startOutlink, type TestOutlink } from '../../support/harness.js';
import { listenClosable } from '../../support/ports.js';

/** Where screenshots go: gitignored, looked at by people, never committed. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../test-artifacts/ui/', import.meta.url));

/**
 * A browser suite that takes longer has hung (a page that never settles, a socket that
 * never closes): it fails rather than holding up the whole run. Whole files take ~20 s.
 */
export const SUITE_TIMEOUT_MS = 90_000;

/** The two sizes the UI must be usable at (issue 4). */
export const DESKTOP = Object.freeze({ width: 1280, height: 800 });
export const PHONE = Object.freeze({ width: 390, height: 844 });

/** Texts the tests look for, per language: exactly what the catalogs say. */
export const TEXT = Object.freeze({
  en: {
    signIn: 'Sign in',
    links: 'Application links',
    connected: 'Connected',
    reauthorizationRequired: 'Re-authorization required',
    twoNeedReauthorization: '2 need re-authorization',
    notAuthorized: 'Not authorized',
    authorizeAnother: 'Authorize another account',
    refreshed: 'The token was refreshed.',
    saved: 'The link was saved.',
    removed: 'Removed.',
    flowSucceeded: 'The authorization succeeded: the account is connected.',
    invalidClientRemedy:
      "Copy the client ID and a current client secret from the provider's console, enter them in the link and save: every connection recovers without re-authorizing.",
    remedyLabel: 'What to do:',
    backToLink: 'Back to the link',
  },
  ja: {
    signIn: 'サインイン',
    links: 'アプリケーション リンク',
    connected: '接続済み',
    reauthorizationRequired: '再認証が必要',
    twoNeedReauthorization: '2 件再認証が必要',
    notAuthorized: '未認証',
    authorizeAnother: '別のアカウントを認証',
    refreshed: 'トークンを更新しました。',
    saved: 'リンクを保存しました。',
    removed: '削除しました。',
    flowSucceeded: '認証に成功しました。アカウントが接続されました。',
    invalidClientRemedy:
      'プロバイダーのコンソールからクライアント ID と有効なクライアントシークレットをリンクにコピーして保存してください。各接続は再認可なしで回復します。',
    remedyLabel: '対処方法:',
    backToLink: 'リンクに戻る',
  },
});
export type Lang = keyof typeof TEXT;

/**
 * A listener on 127.0.0.1, bound to a port the OS picked before Outlink exists: the base URL
 * it gives is what the provider registers as the redirect and what Outlink is configured
 * with, and `serveOutlink` answers on it later. Over HTTPS its certificate is a leaf of the
 * test CA for `localhost` and `127.0.0.1`; over plain HTTP it shows what an `http://` base
 * URL does.
 */
export interface OutlinkListener {
  /** `<scheme>://<host>:<port>`, no trailing slash: where the browser finds Outlink. */
  readonly base: string;
  readonly port: number;
  /** The listener's certificate (PEM), signed by the test CA; undefined over plain HTTP. */
  readonly certPem: string | undefined;
  readonly server: Server;
  /** Closes the listener and every connection to it (again: nothing). */
  close(): Promise<void>;
}

/**
 * Binds the listener (`https` by default); the base URL names `localhost` by default, or
 * the IP literal `127.0.0.1`.
 */
export async function openListener(
  options: { readonly scheme?: 'https' | 'http'; readonly host?: 'localhost' | '127.0.0.1' } = {},
): Promise<OutlinkListener> {
  const scheme = options.scheme ?? 'https';
  let server: Server;
  let certPem: string | undefined;
  if (scheme === 'https') {
    const leaf = await issueLeaf((await testTls()).ca, ['localhost', '127.0.0.1']);
    certPem = leaf.certPem;
    server = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem });
  } else {
    server = createHttpServer();
  }
  const { port, close } = await listenClosable(server);
  // A setup that fails before anyone closes the listener must not keep the test file alive.
  server.unref();
  return {
    base: `${scheme}://${options.host ?? 'localhost'}:${port}`,
    port,
    certPem,
    server,
    close,
  };
}

/** Outlink listening on 127.0.0.1 for a browser, at the base URL it was configured with. */
export interface ServedOutlink {
  /** `<scheme>://<host>:<port>`, no trailing slash: where the browser finds it. */
  readonly base: string;
  readonly outlink: TestOutlink;
  /** The listener's certificate (PEM), signed by the test CA; undefined over plain HTTP. */
  readonly certPem: string | undefined;
  /** Closes the app and the listener, and Outlink when this started it. */
  close(): Promise<void>;
}

/**
 * Serves Outlink on `listener` (one opened with `scheme` and `host` by default): a second
 * app over the services of `outlink`, as `outlink serve` builds it, with a real listener
 * (the harness's app answers `inject()`). Without `outlink`, starts one over SQLite
 * configured with the listener's base URL, and closes it with the rest.
 */
export async function serveOutlink(
  options: {
    readonly listener?: OutlinkListener;
    readonly outlink?: TestOutlink;
    readonly scheme?: 'https' | 'http';
    readonly host?: 'localhost' | '127.0.0.1';
    readonly fetch?: Fetch;
  } = {},
): Promise<ServedOutlink> {
  const listener = options.listener ?? (await openListener(options));
  let outlink = options.outlink;
  let app: FastifyInstance | undefined;
  try {
    outlink ??= await startOutlink('sqlite', {
      env: { OUTLINK_BASE_URL: listener.base },
      fetch: options.fetch,
    });
    // The app answers on the bound listener: Fastify takes the server as its own and is
    // never asked to listen, so closing it leaves the listener to `listener.close()`.
    app = await buildApp(outlink.services, {
      fastify: {
        serverFactory: (handler, settings) => {
          // What Fastify sets on a server it makes itself (its defaults are applied by now).
          const timeouts = settings as { keepAliveTimeout: number; requestTimeout: number };
          listener.server.keepAliveTimeout = timeouts.keepAliveTimeout;
          listener.server.requestTimeout = timeouts.requestTimeout;
          listener.server.on('request', handler);
          return listener.server;
        },
      },
    });
  } catch (error) {
    await app?.close();
    if (!options.outlink) await outlink?.close();
    await listener.close();
    throw error;
  }
  const served = { app, outlink };
  return {
    base: listener.base,
    outlink,
    certPem: listener.certPem,
    async close() {
      await listener.close();
      await served.app.close();
      if (!options.outlink) await served.outlink.close();
    },
  };
}

/** What a context's pages reported: the tests' evidence for "no errors, no CSP violations". */
export interface PageWatch {
  /** Console errors (other than expected API answers), page errors and CSP violations. */
  readonly problems: string[];
  /** The API's 4xx answers the browser logged, each as `<status> <path>`: expected ones. */
  readonly apiErrors: string[];
}

const FAILED_RESOURCE = /^Failed to load resource: the server responded with a status of (4\d\d)\b/;

/**
 * Records every console error, uncaught page error and Content-Security-Policy violation in
 * the context. A 4xx from Outlink's JSON API (`/api/v1/…`) is expected — wrong password,
 * validation errors, a refresh the provider refused — and kept apart in `apiErrors`.
 */
export async function watchContext(context: BrowserContext): Promise<PageWatch> {
  const watch: PageWatch = { problems: [], apiErrors: [] };
  context.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const url = message.location().url;
    const status = FAILED_RESOURCE.exec(message.text())?.[1];
    if (status && url && new URL(url).pathname.startsWith('/api/v1/')) {
      watch.apiErrors.push(`${status} ${new URL(url).pathname}`);
      return;
    }
    watch.problems.push(`console error on ${message.page()?.url()}: ${message.text()} (${url})`);
  });
  context.on('weberror', (error) => {
    watch.problems.push(`uncaught on ${error.page()?.url()}: ${error.error().message}`);
  });
  // The event reaches page scripts only; a binding carries it out. Installed before any page
  // script runs, so a violation during load is seen too.
  await context.exposeBinding('outlinkReportCsp', (source, report: string) => {
    watch.problems.push(`CSP violation on ${source.page?.url()}: ${report}`);
  });
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
  window.outlinkReportCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`,
  });
  return watch;
}

/** Signs in as admin on the login page Outlink shows at `base`. */
export async function signIn(page: Page, base: string): Promise<void> {
  if (!page.url().startsWith(`${base}/login`)) await page.goto(`${base}/login`);
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${base}/admin/applinks`);
}

/**
 * Form controls and buttons without an accessible name (label, aria-label, aria-labelledby
 * or, for buttons, their text), in every part of the page, shown or not. Runs as a string:
 * the tests compile without the DOM library.
 */
const UNNAMED_CONTROLS = `(() => {
  const text = (el) => (el?.textContent ?? '').trim();
  const named = (el) => {
    if ((el.getAttribute('aria-label') ?? '').trim()) return true;
    const ids = (el.getAttribute('aria-labelledby') ?? '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => text(document.getElementById(id)))) return true;
    if ([...(el.labels ?? [])].some((label) => text(label))) return true;
    return el.tagName === 'BUTTON' && text(el) !== '';
  };
  return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 160));
})()`;

/** Ids that more than one element of the page carries (labels and ARIA then point astray). */
const DUPLICATE_IDS = `(() => {
  const counts = new Map();
  for (const el of document.querySelectorAll('[id]')) counts.set(el.id, (counts.get(el.id) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([id]) => id);
})()`;

/**
 * Asserts that every input, select, textarea and button of the page has a name, and that
 * no id is used twice (a label or `aria-describedby` would then name the wrong element).
 */
export async function assertControlsNamed(page: Page, where: string): Promise<void> {
  assert.deepEqual(
    await page.evaluate<string[]>(UNNAMED_CONTROLS),
    [],
    `${where}: unnamed controls`,
  );
  assert.deepEqual(await page.evaluate<string[]>(DUPLICATE_IDS), [], `${where}: duplicate ids`);
}

/**
 * Saves the page at 1280×800 and at 390×844 (whole page) as
 * `test-artifacts/ui/<name>-<width>x<height>.png`, after checking that its controls are
 * named; the viewport is restored afterwards.
 */
export async function capture(page: Page, name: string): Promise<void> {
  await assertControlsNamed(page, name);
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await page.screenshot({
      path: `${ARTIFACTS_DIR}${name}-${size.width}x${size.height}.png`,
      fullPage: true,
      animations: 'disabled',
    });
  }
  await page.setViewportSize(before);
}

/** Where keyboard focus is: inside `dialog`, on no element (the browser's own UI), or out. */
const FOCUS_PLACE = (selector: string) => `(() => {
  const active = document.activeElement;
  if (!active || active === document.body) return 'none';
  const where = active.closest(${JSON.stringify(selector)}) ? 'inside' : 'OUTSIDE';
  return where + ' ' + active.tagName.toLowerCase() + (active.id ? '#' + active.id : '') + (active.dataset.testid ? '[' + active.dataset.testid + ']' : '');
})()`;

/**
 * Presses Tab `presses` times (Shift+Tab with `backwards`) and returns where focus went
 * after each press: `inside <tag#id>`, `none` (focus passed to the browser's own UI) or
 * `OUTSIDE <tag#id>` (focus escaped the modal dialog: a failure).
 */
export async function tabThrough(
  page: Page,
  dialogSelector: string,
  presses: number,
  backwards = false,
): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    seen.push(await page.evaluate<string>(FOCUS_PLACE(dialogSelector)));
  }
  return seen;
}

/**
 * Polls `check` from the test until it holds. (`page.waitForFunction` evaluates its
 * predicate with `eval`, which the pages' Content-Security-Policy rightly forbids.)
 */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the input `testid` holds a value that `accept` accepts, and returns it. */
export async function waitForValue(
  page: Page,
  testid: string,
  accept: (value: string) => boolean = (value) => value !== '',
): Promise<string> {
  const input = page.getByTestId(testid);
  await until(`${testid} has the expected value`, async () => accept(await input.inputValue()));
  return input.inputValue();
}

/** Waits until the create / edit dialog shows a redirect URL (it comes from the API). */
export function redirectUrlShown(page: Page, expected?: string): Promise<string> {
  return waitForValue(page, 'redirectUrl', (value) =>
    expected === undefined ? value !== '' : value === expected,
  );
}

/**
 * Runs `action`, which ends in a page load (the UI reloads after most changes, with a
 * message for the next page), and waits for that load: the message on screen is then the
 * new one, not the last page's.
 */
export async function loadAfter(page: Page, action: () => Promise<void>): Promise<void> {
  const loaded = page.waitForEvent('load');
  await action();
  await loaded;
}

/** The message of kind `kind` (success, warning, error) in the page's status region. */
export async function flashText(
  page: Page,
  kind: 'success' | 'warning' | 'error',
): Promise<string> {
  const banner = page.getByTestId('flash').locator(`.banner-${kind}`);
  await banner.waitFor();
  return shownText(banner);
}

/** Text with its whitespace collapsed, as it reads. */
export function words(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * What a reader sees of `locator`: its rendered text (no hidden parts), whitespace
 * collapsed. Screen-reader-only text (`.visually-hidden`) is rendered, so it is included.
 */
export async function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text a reader sees, which these tests assert; textContent would include hidden parts.
  return words(await locator.innerText());
}

/** `shownText` of every element `locator` matches. */
export async function allShownTexts(locator: Locator): Promise<string[]> {
  return Promise.all((await locator.all()).map(shownText));
}

/** Whether the dialog `id` is open (a modal `<dialog>` with the `open` attribute). */
export function dialogOpen(page: Page, id: string): Promise<boolean> {
  return page.evaluate<boolean>(`document.getElementById(${JSON.stringify(id)}).open`);
}
