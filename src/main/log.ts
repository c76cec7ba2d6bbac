import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths whose values never reach a log line: credentials in headers, and every secret-
 * bearing field of a body or object we might log.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["x-rejected-token"]',
  'res.headers["set-cookie"]',
  '*.clientSecret',
  '*.client_secret',
  '*.client_secret_enc',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.csrfToken',
];

/**
 * Paths whose last segment is a secret: one-time start URLs (issue 11) and re-authorization
 * links (issue 13).
 */
const SECRET_PATH = /^(\/oauth2\/(?:start|reauthorize)\/)[^/?#]+/;

/**
 * A URL with every query value replaced by `[redacted]` and no fragment: OAuth callbacks
 * carry `code` and `state`, token routes `?account=<email>`, webhook URLs sometimes a key.
 * The parameter names stay, so a log line still says which request it was. A secret in the
 * path (a start URL's, a re-authorization link's) is redacted too.
 */
export function redactQuery(url: string): string {
  const withoutFragment = (url.split('#', 1)[0] ?? '').replace(SECRET_PATH, '$1[redacted]');
  const at = withoutFragment.indexOf('?');
  if (at < 0) return withoutFragment;
  const query = withoutFragment
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    })
    .join('&');
  return `${withoutFragment.slice(0, at + 1)}${query}`;
}

/** What a request line shows: Fastify's own fields, the URL without query values. */
interface RequestLike {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number };
}

/**
 * Serializers by log key. Fastify uses the logger's own `req` serializer over its default,
 * which would log the whole URL; `url` covers every other line that logs one.
 */
export const LOG_SERIALIZERS = {
  req: (req: RequestLike) => ({
    method: req.method,
    url: typeof req.url === 'string' ? redactQuery(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }),
  url: (url: unknown) => (typeof url === 'string' ? redactQuery(url) : url),
};

/**
 * The logger of a process. Lines go to stderr asynchronously: a write never blocks the request
 * that logged it, lines logged while one is being written go out together, and what is still
 * pending is flushed when the process exits.
 */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: LOG_SERIALIZERS,
      base: { service: 'outlink' },
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}
