/**
 * A connection's token status (DESIGN §7): `valid`; `refresh_failing` (transient errors, the
 * token is still usable until it expires); `reauthorization_required` (a permanent failure:
 * the account must authorize again, or the link be fixed).
 */
export const ConnectionStatuses = ['valid', 'refresh_failing', 'reauthorization_required'] as const;
export type ConnectionStatus = (typeof ConnectionStatuses)[number];
