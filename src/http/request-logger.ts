import type { FastifyBaseLogger } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

/** The methods that write a line: each makes the request's real child logger first. */
const LINE_METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const REAL = Symbol('outlink.requestLogger.real');
const MAKE = Symbol('outlink.requestLogger.make');

interface LazyState {
  [REAL]: FastifyBaseLogger | undefined;
  [MAKE]: () => FastifyBaseLogger;
}

/**
 * Fastify's `childLoggerFactory`: the request's logger (`request.log`, `reply.log`) made only
 * when something logs through it. A pino child with the process logger's redaction runs that
 * redaction over its bindings as it is made, a fortieth of the token route's CPU (issue 12),
 * while a request answered without error logs nothing through it: its one line goes through
 * the request-line logger with the request id in the line. The first line written through it
 * makes the real child (bindings, redaction, serializers: exactly `parent.child`); any other
 * property is the parent's, read through the prototype, so nothing can be missing.
 */
export function lazyChildLoggerFactory(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  // A route with its own log level gets its child at once: the level is the child's.
  if (Object.keys(options as object).length > 0) return parent.child(bindings, options);
  const lazy = Object.create(prototypeOf(parent)) as FastifyBaseLogger & LazyState;
  lazy[REAL] = undefined;
  lazy[MAKE] = () => parent.child(bindings, options);
  return lazy;
}

const prototypes = new WeakMap<FastifyBaseLogger, object>();

/** One prototype per parent logger: the parent, with the line methods made lazy. */
function prototypeOf(parent: FastifyBaseLogger): object {
  let prototype = prototypes.get(parent);
  if (prototype) return prototype;
  prototype = Object.create(parent) as object;
  const real = (self: LazyState): FastifyBaseLogger => {
    self[REAL] ??= self[MAKE]();
    return self[REAL];
  };
  for (const method of LINE_METHODS) {
    Object.defineProperty(prototype, method, {
      value(this: LazyState, ...args: unknown[]) {
        const logger = real(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return logger[method]!(...args);
      },
    });
  }
  Object.defineProperty(prototype, 'child', {
    value(this: LazyState, bindings: Bindings, options?: ChildLoggerOptions) {
      return real(this).child(bindings, options);
    },
  });
  prototypes.set(parent, prototype);
  return prototype;
}
