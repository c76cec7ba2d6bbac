import type { AccessTokenView } from '../tokens/token-service.js';

/** An access token as the token routes and `outlink token --json` show it. */
export type PresentedAccessToken = Omit<AccessTokenView, 'connectionId'>;

/** The token without the connection id: the consumer asked by that id or by its link. */
export function presentAccessToken(token: AccessTokenView): PresentedAccessToken {
  const { connectionId: _, ...view } = token;
  return view;
}
