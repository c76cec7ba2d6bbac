import { Aad } from '../crypto/aad.js';
import type { Cipher } from '../crypto/cipher.js';
import type { AccessTokenView } from '../domain/connection.js';
import { OutlinkError } from '../domain/errors.js';
import type { ConnectionTokenRow } from '../store/repositories/connection-tokens.js';

export interface TokenViews {
  /** The row's access token, decrypted; `not_authorized` when it has none. */
  accessTokenOf(row: ConnectionTokenRow): string;
  /** What a consumer gets for the row: a copy of its own, whoever else asked. */
  view(row: ConnectionTokenRow): AccessTokenView;
  /** The same, frozen and shared by every caller of the same row (no copy). */
  shared(row: ConnectionTokenRow): Readonly<AccessTokenView>;
}

/**
 * Decrypts stored access tokens for consumers: once per row read, however many callers
 * share that read (a row object is replaced, never changed, when the token changes).
 */
export function createTokenViews(cipher: Cipher): TokenViews {
  const views = new WeakMap<ConnectionTokenRow, AccessTokenView>();
  const accessTokenOf = (row: ConnectionTokenRow): string => {
    if (!row.access_token_enc) throw new OutlinkError('not_authorized', { id: row.link_id });
    return cipher.decrypt(row.access_token_enc, Aad.accessToken(row.id));
  };
  const shared = (row: ConnectionTokenRow): Readonly<AccessTokenView> => {
    const known = views.get(row);
    if (known) return known;
    const made: AccessTokenView = Object.freeze({
      connectionId: row.id,
      accessToken: accessTokenOf(row),
      tokenType: row.token_type ?? 'bearer',
      expiresAt: row.expires_at,
      scopes: Object.freeze(JSON.parse(row.scopes) as string[]) as string[],
      account: row.account,
    });
    views.set(row, made);
    return made;
  };
  return {
    accessTokenOf,
    shared,
    view(row) {
      const made = shared(row);
      return { ...made, scopes: [...made.scopes] };
    },
  };
}
