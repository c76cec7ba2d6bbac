import { Type } from '@sinclair/typebox';

/** `/healthz` and `/readyz`: overall status and one line per check. */
export const HealthResponse = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.String()),
});
