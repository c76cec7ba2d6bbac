/**
 * An abort signal that fires with a `TimeoutError` after `ms` (as `AbortSignal.timeout`'s
 * does), and `clear()` to stop its timer once the work is done. `AbortSignal.timeout` cannot
 * be cleared: on a repeated path (a token request per refresh, a webhook delivery per event)
 * each call left a timer that fired later and built an error nobody read (issue 12).
 */
export function deadline(ms: number): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
