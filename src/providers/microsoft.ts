import { type MailServerPreset, presetServer } from './mail-preset.js';
import type {
  MicrosoftCloud,
  ProviderErrorRule,
  ProviderErrors,
  ProviderOptions,
  ProviderPreset,
  RequestedProviderOptions,
  ScopeAdjustment,
} from './types.js';

export const MICROSOFT_DEFAULT_TENANT = 'common';

/**
 * Where each cloud signs in (the Entra ID host of its authorization and token endpoints),
 * which host its ID tokens name as issuer, the Exchange Online resource its scopes are on
 * (GCC uses the office365.com host), and the portal its app registrations live in — the
 * redirect URL is registered there, not in the global portal.
 * @see https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 * @see https://learn.microsoft.com/graph/deployments
 */
export const MICROSOFT_CLOUDS: Readonly<
  Record<
    MicrosoftCloud,
    {
      readonly loginHost: string;
      readonly issuerHost: string;
      readonly scopeHost: string;
      readonly portal: string;
    }
  >
> = Object.freeze({
  global: {
    loginHost: 'login.microsoftonline.com',
    issuerHost: 'login.microsoftonline.com',
    scopeHost: 'https://outlook.office.com/',
    portal: 'https://entra.microsoft.com',
  },
  gcc: {
    loginHost: 'login.microsoftonline.com',
    issuerHost: 'login.microsoftonline.com',
    scopeHost: 'https://outlook.office365.com/',
    portal: 'https://entra.microsoft.com',
  },
  gcc_high: {
    loginHost: 'login.microsoftonline.us',
    issuerHost: 'login.microsoftonline.us',
    scopeHost: 'https://outlook.office365.us/',
    portal: 'https://portal.azure.us',
  },
  dod: {
    loginHost: 'login.microsoftonline.us',
    issuerHost: 'login.microsoftonline.us',
    scopeHost: 'https://outlook.office365.us/',
    portal: 'https://portal.azure.us',
  },
  china: {
    loginHost: 'login.chinacloudapi.cn',
    // The 21Vianet discovery document names its newer host as issuer and token endpoint.
    issuerHost: 'login.partner.microsoftonline.cn',
    scopeHost: 'https://partner.outlook.cn/',
    portal: 'https://portal.azure.cn',
  },
});

/** Exchange Online resource hosts per cloud. */
export const MICROSOFT_SCOPE_HOSTS: Readonly<Record<MicrosoftCloud, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(MICROSOFT_CLOUDS).map(([cloud, facts]) => [cloud, facts.scopeHost]),
  ) as Record<MicrosoftCloud, string>,
);

/** True for the clouds whose app registrations live outside the global Entra portal. */
export function isNationalCloud(cloud: MicrosoftCloud): boolean {
  return MICROSOFT_CLOUDS[cloud].loginHost !== MICROSOFT_CLOUDS.global.loginHost;
}

/** `common`, `organizations`, `consumers`, a tenant GUID or a verified domain. */
export const MICROSOFT_TENANT_PATTERN =
  '^(common|organizations|consumers|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$';

/**
 * Microsoft identity platform errors by their AADSTS code (DESIGN §7), which names the cause
 * far more exactly than the OAuth `error` it comes with, so it is read first.
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
export const MICROSOFT_ERRORS: ProviderErrors = Object.freeze({
  // Entra ID starts its descriptions with the code (`AADSTS7000222: …`); the first one counts.
  codeOf: (description: string) => /AADSTS(\d+)/.exec(description)?.[1],
  rules: Object.freeze([
    // The link's registration: client secret expired, wrong or missing, client ID, redirect
    // URI, tenant.
    aad(
      '7000222',
      'link',
      'invalid_client',
      "The provided client secret keys for app '{app}' are expired. Visit the Azure portal to create new keys for your app, or consider using certificate credentials for added security.",
    ),
    aad(
      '7000215',
      'link',
      'invalid_client',
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app}'.",
    ),
    aad(
      '7000218',
      'link',
      'invalid_client',
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    aad(
      '700016',
      'link',
      'unauthorized_client',
      "Application with identifier '{app}' was not found in the directory 'contoso.example'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
    ),
    aad(
      '50011',
      'link',
      'invalid_request',
      "The redirect URI 'https://outlink.example.test/oauth2/callback/abc' specified in the request does not match the redirect URIs configured for the application '{app}'.",
    ),
    aad(
      '90002',
      'link',
      'invalid_request',
      "Tenant 'contoso.example' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
    ),
    // The account: refresh token unused too long or revoked, consent, scopes, MFA,
    // Conditional Access, an account of another tenant.
    aad(
      '700082',
      'connection',
      'invalid_grant',
      'The refresh token has expired due to inactivity. The token was issued on 2026-01-05T09:00:00Z and was inactive for 90.00:00:00.',
    ),
    aad(
      '70008',
      'connection',
      'invalid_grant',
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
    aad(
      '50173',
      'connection',
      'invalid_grant',
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
    ),
    aad(
      '65001',
      'connection',
      'invalid_grant',
      "The user or administrator has not consented to use the application with ID '{app}' named 'Outlink'. Send an interactive authorization request for this user and resource.",
    ),
    aad(
      '70000',
      'connection',
      'invalid_grant',
      'The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.',
    ),
    aad(
      '50076',
      'connection',
      'invalid_grant',
      "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'https://outlook.office.com'.",
    ),
    aad(
      '50079',
      'connection',
      'invalid_grant',
      "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access 'https://outlook.office.com'.",
    ),
    aad(
      '53003',
      'connection',
      'invalid_grant',
      'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
    ),
    aad(
      '90072',
      'connection',
      'invalid_grant',
      "User account 'alice@fabrikam.example' from identity provider 'https://sts.windows.net/{tenant}/' does not exist in tenant 'Contoso' and cannot access the application '{app}'(Outlink) in that tenant. The account needs to be added as an external user in the tenant first.",
    ),
    aad(
      '50020',
      'connection',
      'invalid_grant',
      "User account 'alice@fabrikam.example' from identity provider 'live.com' does not exist in tenant 'Contoso' and cannot access the application '{app}'(Outlink) in that tenant.",
    ),
  ] as const),
});

/** A rule for one AADSTS code, with the answer Entra ID gives (ids are made up). */
function aad(
  code: string,
  scope: ProviderErrorRule['scope'],
  error: string,
  text: string,
): ProviderErrorRule {
  const description = `AADSTS${code}: ${text
    .replaceAll('{app}', '00000000-0000-0000-0000-000000000001')
    .replaceAll(
      '{tenant}',
      '00000000-0000-0000-0000-00000000000a',
    )} Trace ID: 00000000-0000-0000-0000-000000000002 Correlation ID: 00000000-0000-0000-0000-000000000003 Timestamp: 2026-04-05 09:00:00Z`;
  return Object.freeze({ id: `aadsts_${code}`, code, scope, example: { error, description } });
}

const scopeHost = (options: ProviderOptions) => MICROSOFT_SCOPE_HOSTS[options.cloud ?? 'global'];

/** @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth */
export const microsoft: ProviderPreset = Object.freeze({
  id: 'microsoft',
  name: 'Microsoft',
  endpoints: (options: ProviderOptions) => {
    const host = MICROSOFT_CLOUDS[options.cloud ?? 'global'].loginHost;
    const base = `https://${host}/${encodeURIComponent(options.tenant ?? MICROSOFT_DEFAULT_TENANT)}/oauth2/v2.0`;
    return { authorizationEndpoint: `${base}/authorize`, tokenEndpoint: `${base}/token` };
  },
  // The v2.0 issuer names the tenant id, unknown for `common`; RFC 9207 `iss` is then
  // recorded at the first authorization instead (DESIGN §4).
  issuer: () => undefined,
  scopes: (options: ProviderOptions) => ({
    imap: [`${scopeHost(options)}IMAP.AccessAsUser.All`],
    pop3: [`${scopeHost(options)}POP.AccessAsUser.All`],
    smtp: [`${scopeHost(options)}SMTP.Send`],
  }),
  resolveOptions: (requested: RequestedProviderOptions): ProviderOptions => ({
    tenant: requested.tenant ?? MICROSOFT_DEFAULT_TENANT,
    cloud: requested.cloud ?? 'global',
  }),
  // An Exchange Online scope typed for the other cloud is moved onto the link's.
  adjustScope: (scope: string, options: ProviderOptions): ScopeAdjustment | undefined => {
    if (!options.cloud) return undefined;
    const adjusted = adjustMicrosoftScope(scope, options.cloud);
    if (adjusted === scope) return undefined;
    return {
      scope: adjusted,
      warning: {
        code: 'scope_cloud_adjusted',
        params: { from: scope, to: adjusted, cloud: options.cloud },
      },
    };
  },
  requiredScopes: Object.freeze(['offline_access']),
  authorizationParams: Object.freeze({}),
  identityScopes: Object.freeze(['openid', 'email', 'profile']),
  // `common` and `organizations` ID tokens are issued by the user's own tenant: the issuer
  // must be the v2.0 issuer of the tenant the token itself names in `tid`.
  idTokenIssuer: microsoftIdTokenIssuer,
  accountKey: microsoftAccountKey,
  errors: MICROSOFT_ERRORS,
  refreshTokenRequired: true,
  options: Object.freeze(['tenant', 'cloud'] as const),
});

/**
 * Moves an Exchange Online scope onto the host of the chosen cloud, e.g.
 * `https://outlook.office.com/SMTP.Send` → `https://outlook.office365.com/SMTP.Send` for GCC.
 */
export function adjustMicrosoftScope(scope: string, cloud: MicrosoftCloud): string {
  for (const host of new Set(Object.values(MICROSOFT_SCOPE_HOSTS))) {
    if (scope.startsWith(host)) return MICROSOFT_SCOPE_HOSTS[cloud] + scope.slice(host.length);
  }
  return scope;
}

const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Microsoft account as its tenant (`tid`) and object id (`oid`): the pair Microsoft names
 * as the user's identity across applications; `email` is not verified by the `common`
 * endpoint, and `sub` differs per application.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
export function microsoftAccountKey(claims: Readonly<Record<string, unknown>>): string | undefined {
  const { tid, oid } = claims;
  return typeof tid === 'string' && typeof oid === 'string' && tid && oid
    ? `microsoft:${tid.toLowerCase()}:${oid.toLowerCase()}`
    : undefined;
}

/**
 * `https://login.microsoftonline.com/<tid>/v2.0` (the link's cloud's issuer host) for an ID
 * token whose `tid` is a tenant id; undefined otherwise, so a token without a tenant matches
 * no issuer.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
export function microsoftIdTokenIssuer(
  claims: Readonly<Record<string, unknown>>,
  options: ProviderOptions = {},
): string | undefined {
  const tid = claims.tid;
  const host = MICROSOFT_CLOUDS[options.cloud ?? 'global'].issuerHost;
  return typeof tid === 'string' && TENANT_ID.test(tid)
    ? `https://${host}/${tid.toLowerCase()}/v2.0`
    : undefined;
}

// Mail

/**
 * Exchange Online: one scope per protocol (`IMAP.AccessAsUser.All`, `POP.AccessAsUser.All`,
 * `SMTP.Send`). It sends no error challenge: IMAP answers `NO AUTHENTICATE failed.`, SMTP
 * `535 5.7.3 Authentication unsuccessful`, and `535 5.7.139` when SMTP AUTH is disabled for
 * the tenant or the mailbox. IMAP, POP and authenticated SMTP are per-mailbox switches
 * (`Set-CASMailbox -ImapEnabled/-PopEnabled/-SmtpClientAuthenticationDisabled`); a shared
 * mailbox is reached with a delegate's token that has FullAccess (username = the shared
 * mailbox, token = the delegate's).
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 */
export const exchangeOnlinePreset: MailServerPreset = Object.freeze({
  id: 'exchange_online',
  provider: 'microsoft',
  name: 'Exchange Online',
  clouds: Object.freeze(['global', 'gcc'] as const),
  servers: Object.freeze({
    imap: Object.freeze([presetServer('outlook.office365.com', 993, 'tls')]),
    pop3: Object.freeze([presetServer('outlook.office365.com', 995, 'tls')]),
    smtp: Object.freeze([presetServer('smtp.office365.com', 587, 'starttls')]),
  }),
  protocolDisabledRemedy: 'exchange_protocol_disabled',
});

/**
 * Exchange Online in the US Government clouds (GCC High and DoD): the same protocols and
 * refusals as the worldwide service, on the `office365.us` hosts, with tokens whose scopes
 * are on `https://outlook.office365.us/`.
 * The SMTP host and the DoD hosts are unconfirmed (DoD may use `outlook-dod.office365.us`).
 * @see https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 */
export const exchangeOnlineUsPreset: MailServerPreset = Object.freeze({
  ...exchangeOnlinePreset,
  id: 'exchange_online_us',
  name: 'Exchange Online (GCC High / DoD)',
  clouds: Object.freeze(['gcc_high', 'dod'] as const),
  servers: Object.freeze({
    imap: Object.freeze([presetServer('outlook.office365.us', 993, 'tls')]),
    pop3: Object.freeze([presetServer('outlook.office365.us', 995, 'tls')]),
    smtp: Object.freeze([presetServer('smtp.office365.us', 587, 'starttls')]),
  }),
});

/**
 * Exchange Online operated by 21Vianet (China): the `partner.outlook.cn` hosts, with tokens
 * whose scopes are on `https://partner.outlook.cn/`.
 * The SMTP host `smtp.partner.outlook.cn` is unconfirmed.
 * @see https://learn.microsoft.com/previous-versions/office/office-365-api/api/o365-china-endpoints
 */
export const exchangeOnlineChinaPreset: MailServerPreset = Object.freeze({
  ...exchangeOnlinePreset,
  id: 'exchange_online_china',
  name: 'Exchange Online (21Vianet)',
  clouds: Object.freeze(['china'] as const),
  servers: Object.freeze({
    imap: Object.freeze([presetServer('partner.outlook.cn', 993, 'tls')]),
    pop3: Object.freeze([presetServer('partner.outlook.cn', 995, 'tls')]),
    smtp: Object.freeze([presetServer('smtp.partner.outlook.cn', 587, 'starttls')]),
  }),
});

/**
 * True for a client secret in the shape of a GUID: Entra ID shows each secret's ID (a GUID)
 * next to its value (about 40 characters, with a `~`), and the ID is often pasted instead.
 */
export function looksLikeSecretId(secret: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secret.trim());
}
