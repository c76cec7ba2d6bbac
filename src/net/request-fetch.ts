import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type Dispatcher, request } from 'undici';

/** An answer larger than the reader's cap: nothing past the cap was read. */
export class ResponseTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the response is larger than ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
    this.limit = limit;
  }
}

/** The most of an answer the guarded fetch reads into memory unless told otherwise: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

type FetchInput = Parameters<typeof globalThis.fetch>[0];
type FetchInit = NonNullable<Parameters<typeof globalThis.fetch>[1]>;
type PlainBody = string | URLSearchParams | Uint8Array | null | undefined;

/**
 * True for a request `requestAsFetch` sends as `fetch` would: a URL, redirects not followed
 * (what every Outlink caller asks for: oauth4webapi, webhooks, diagnose), and a body that is
 * text, a form or bytes, or none.
 */
export function isPlainRequest(
  input: FetchInput,
  init: FetchInit | undefined,
): init is FetchInit & { body?: PlainBody } {
  if (init?.redirect !== 'manual') return false;
  if (typeof input !== 'string' && !(input instanceof URL)) return false;
  const body = init.body;
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof Uint8Array
  );
}

/** Statuses whose answers carry no body (RFC 9110); a `Response` refuses one. */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * Issue 12: a plain request (`isPlainRequest`) through undici's `request` instead of its
 * `fetch`, which costs about twice the CPU (a WHATWG request, streams and abort signals each
 * time): the answer is read whole, at most `maxBodyBytes` (`ResponseTooLargeError` past it,
 * declared or not), into a `Response`. What the caller sees is what `fetch` gives it: the
 * default headers `fetch` sends, a form's content type, a decoded body, a rejection with the
 * signal's reason once aborted, and `TypeError('fetch failed')` with the cause otherwise.
 */
export async function requestAsFetch(
  dispatcher: Dispatcher,
  input: string | URL,
  init: FetchInit & { body?: PlainBody },
  maxBodyBytes: number,
): Promise<Response> {
  const url = String(input);
  const headers: Record<string, string> = {
    accept: '*/*',
    'accept-language': '*',
    'sec-fetch-mode': 'cors',
    'user-agent': 'undici',
    'accept-encoding': 'gzip, deflate',
  };
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  let body: string | Uint8Array | undefined;
  if (init.body instanceof URLSearchParams) {
    body = init.body.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
  } else if (typeof init.body === 'string') {
    body = init.body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (init.body) {
    body = init.body;
  }
  const signal = init.signal ?? undefined;
  const failed = (error: unknown) =>
    signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error });
  let answer: Dispatcher.ResponseData;
  try {
    answer = await request(url, {
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers,
      ...(body !== undefined ? { body } : {}),
      dispatcher,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw failed(error);
  }
  const declared = Number(answer.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    // Unread: the connection goes, with its body (the error is this function's to report).
    answer.body.on('error', () => undefined).destroy();
    throw new ResponseTooLargeError(maxBodyBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Leaving the loop destroys the body: nothing more is read.
      if (size > maxBodyBytes) throw new ResponseTooLargeError(maxBodyBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof ResponseTooLargeError) throw error;
    throw failed(error);
  }
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
  }
  const status = answer.statusCode;
  const empty = NULL_BODY.has(status) || init.method?.toUpperCase() === 'HEAD';
  const response = new Response(
    empty ? null : decoded(Buffer.concat(chunks), answer.headers['content-encoding'], maxBodyBytes),
    { status, headers: responseHeaders },
  );
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/** The body as `fetch` hands it out: gzip and deflate decoded (what it asks for), br too. */
function decoded(
  raw: Buffer,
  encoding: string | string[] | undefined,
  maxBodyBytes: number,
): Buffer {
  const coding = String(encoding ?? '')
    .trim()
    .toLowerCase();
  if (!coding || coding === 'identity' || raw.length === 0) return raw;
  const options = { maxOutputLength: maxBodyBytes };
  try {
    if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(raw, options);
    if (coding === 'deflate') return inflateSync(raw, options);
    if (coding === 'br') return brotliDecompressSync(raw, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ResponseTooLargeError(maxBodyBytes);
    }
    throw new TypeError('fetch failed', { cause: error });
  }
  throw new TypeError('fetch failed', {
    cause: new Error(`unsupported content-encoding ${coding}`),
  });
}
