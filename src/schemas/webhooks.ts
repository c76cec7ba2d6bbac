import { type Static, Type } from '@sinclair/typebox';
import {
  DefaultWebhookEventTypes,
  MailWebhookEventTypes,
  WebhookEventTypes,
} from '../domain/events.js';
import { OneOf } from './common.js';

/** Body of `POST /api/v1/webhooks`. */
export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ format: 'uri', maxLength: 2048 }),
    eventTypes: Type.Optional(
      Type.Array(OneOf(WebhookEventTypes), {
        minItems: 1,
        uniqueItems: true,
        description: `Default: the connection events and the notices to administrators, de-duplicated (${DefaultWebhookEventTypes.join(', ')}). The mail events (${MailWebhookEventTypes.join(', ')}) carry what senders wrote and are sent only when named here`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateWebhookInput = Static<typeof CreateWebhookBody>;

/** A webhook endpoint as the API lists it: never its signing secret. */
export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  eventTypes: Type.Array(Type.String()),
  createdAt: Type.String(),
});
export type WebhookView = Static<typeof Webhook>;

/** The answer to creating one: the signing secret, in this answer only. */
export const CreatedWebhook = Type.Composite([Webhook, Type.Object({ secret: Type.String() })]);
