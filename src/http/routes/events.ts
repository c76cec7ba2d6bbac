import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { OutlinkError } from '../../domain/errors.js';
import { authErrors, ListOf, validationErrors } from '../../schemas/common.js';
import { Event, EventQuery } from '../../schemas/events.js';
import { decodeEventCursor } from '../../services/events.js';
import type { Services } from '../../services/index.js';

/** The audit and token event log, newest first. */
export function eventRoutes(app: FastifyInstance, { events }: Pick<Services, 'events'>): void {
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
