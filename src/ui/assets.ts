import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AssetUrls } from './context.js';

/** One static file of the admin UI, read once at startup. */
export interface StaticAsset {
  readonly name: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** First 12 hex characters of its SHA-256: the `?v=` that makes long caching safe. */
  readonly version: string;
}

/** URL prefix of the static files; outside `/api/v1`, served without authentication. */
export const STATIC_PREFIX = '/static/';

/** The stylesheets in cascade order: every page links them all, in this order. */
export const STYLESHEETS = [
  'layout.css',
  'components.css',
  'forms.css',
  'mail-servers.css',
  'issues.css',
] as const;

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
/** The entry module, the modules it imports, and the stylesheets. */
const FILES: readonly (readonly [string, string])[] = [
  ['app.js', JS],
  ['common.js', JS],
  ['link-dialog.js', JS],
  ['mail-servers.js', JS],
  ['mail-server-dialog.js', JS],
  ['mail-handler-fields.js', JS],
  ['mail-handler-status.js', JS],
  ...STYLESHEETS.map((name) => [name, CSS] as const),
];

/**
 * Reads the client modules and stylesheets from `static/` next to this module (the build
 * copies `src/ui/static` to `dist/ui/static`), so both layouts serve the same files.
 */
export function loadAssets(
  dir: URL = new URL('./static/', import.meta.url),
): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const [name, contentType] of FILES) {
    const body = readFileSync(new URL(name, dir));
    const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
    assets.set(name, { name, contentType, body, version });
  }
  return assets;
}

/** The versioned URLs pages link to. */
export function assetUrls(assets: ReadonlyMap<string, StaticAsset>): AssetUrls {
  const url = (name: string) => `${STATIC_PREFIX}${name}?v=${assets.get(name)?.version ?? '0'}`;
  return { script: url('app.js'), styles: STYLESHEETS.map(url) };
}
