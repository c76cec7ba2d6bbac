/**
 * The associated data that binds each encrypted value to its row and column (see
 * `cipher.ts`). One place, so the code that writes a secret, the code that reads it and key
 * rotation can never spell it differently.
 */
export const Aad = {
  linkClientSecret: (linkId: string) => `links.client_secret:${linkId}`,
  accessToken: (connectionId: string) => `connections.access_token:${connectionId}`,
  refreshToken: (connectionId: string) => `connections.refresh_token:${connectionId}`,
  codeVerifier: (flowId: string) => `authorization_flows.code_verifier:${flowId}`,
  flowAuthorizationUrl: (flowId: string) => `authorization_flows.authorization_url:${flowId}`,
  webhookSecret: (webhookId: string) => `webhooks.secret:${webhookId}`,
  mailServerPassword: (mailServerId: string) => `mail_servers.password:${mailServerId}`,
} as const;
