import { type Static, Type } from '@sinclair/typebox';
import { EventTypes } from '../domain/events.js';
import { OneOf } from './common.js';

/** An audit or token event (DESIGN §8). */
export const Event = Type.Object({
  id: Type.String(),
  type: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  linkId: Type.Optional(Type.String()),
  connectionId: Type.Optional(Type.String()),
  mailServerId: Type.Optional(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type EventView = Static<typeof Event>;

/** `GET /api/v1/events?type=&linkId=&limit=&cursor=`. */
export const EventQuery = Type.Object(
  {
    type: Type.Optional(OneOf(EventTypes)),
    linkId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
