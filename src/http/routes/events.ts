import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import type { Services } from '../../main/compose.js';
import { authErrors, ListOf, validationErrors } from '../../schemas/common.js';
import { decodeEventCursor, EventTypes } from '../../services/events.js';

const Event = Type.Object({
  id: Type.String(),
  type: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  linkId: Type.Optional(Type.String()),
  connectionId: Type.Optional(Type.String()),
  mailServerId: Type.Optional(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
});

const EventQuery = Type.Object(
  {
    type: Type.Optional(Type.Union(EventTypes.map((t) => Type.Literal(t)))),
    linkId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** The audit and token event log, newest first. */
export function eventRoutes(app: FastifyInstance, { events }: Services): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get('/api/v1/events', {
    schema: {
      tags: ['events'],
      summary: 'Audit and token events, newest first',
      querystring: EventQuery,
      response: { 200: ListOf(Event), ...authErrors, ...validationErrors },
    },
    handler: async (req) => {
      const { cursor, limit, type, linkId } = req.query;
      const after = cursor === undefined ? undefined : decodeEventCursor(cursor);
      if (cursor !== undefined && after === undefined) {
        throw new OutlinkError(
          'field_invalid',
          { field: 'cursor', problem: 'not a cursor this server issued' },
          { details: { field: 'cursor' } },
        );
      }
      return events.list({ limit: limit ?? 50, cursor: after, type, linkId });
    },
  });
}
