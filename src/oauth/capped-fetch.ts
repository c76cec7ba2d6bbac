import { DEFAULT_MAX_BODY_BYTES, ResponseTooLargeError } from '../net/request-fetch.js';
import type { Fetch } from './discovery.js';

/**
 * The most Outlink reads of a token endpoint's or discovery document's answer (issue 11): the
 * guarded fetch's own cap, so the two refuse the same answers.
 */
export const MAX_PROVIDER_RESPONSE_BYTES = DEFAULT_MAX_BODY_BYTES;

/** A provider answered with more than the cap: nothing past the cap was read. */
export { ResponseTooLargeError };

/**
 * `fetch` whose answers are read whole, up to `limit` bytes, before anyone parses them: a
 * provider (or whoever answers in its name) cannot make Outlink buffer an unbounded body. A
 * declared `Content-Length` over the cap is refused before the body is read.
 */
export function cappedFetch(fetch: Fetch, limit = MAX_PROVIDER_RESPONSE_BYTES): Fetch {
  const capped = async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    const response = await fetch(input, init);
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(limit);
    }
    // A declared length within the cap bounds the body already (fetch fails a body longer
    // than its Content-Length), so it is handed on without a copy. A null-body status
    // cannot be rebuilt with a body; it has none to cap.
    if (
      response.headers.has('content-length') ||
      !response.body ||
      [101, 204, 205, 304].includes(response.status)
    )
      return response;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw new ResponseTooLargeError(limit);
      }
      chunks.push(value);
    }
    const copy = new Response(Buffer.concat(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperty(copy, 'url', { value: response.url });
    return copy;
  };
  return capped as Fetch;
}
