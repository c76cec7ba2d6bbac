import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ADMIN_PASSWORD, Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

/**
 * The bad-input matrix (issue 2, "Bad input"): every field of every body, query and path
 * parameter with the values clients get wrong, each answered with an exact 4xx status and
 * catalog code, never a 500, and never a change to the database.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Links the rows refer to, created before the matrix runs. */
interface Fixture {
  readonly google: { id: string; name: string };
  readonly microsoft: { id: string; name: string };
  readonly custom: { id: string; name: string };
  readonly tokenId: string;
}

interface Row {
  readonly label: string;
  readonly method: Method;
  readonly url: (f: Fixture) => string;
  /** A JSON value sent as the body (`application/json`). */
  readonly json?: (f: Fixture) => unknown;
  /** A body sent as is, for the framing rows. */
  readonly raw?: { readonly payload: string; readonly contentType?: string };
  /** `false` for the public login route. */
  readonly auth: boolean;
  readonly status: number;
  readonly code: string;
  /** The `field` the answer names; `null` when the error is about no single field. */
  readonly field: string | null;
}

const MISSING = Symbol('missing');
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const long = (n: number) => 'a'.repeat(n);
const longUrl = (n: number) =>
  `https://as.example.test/${long(n - 'https://as.example.test/'.length)}`;

/** [label, value, status, code, field?]: field defaults to the field under test. */
type Case = readonly [string, unknown, number, string, (string | null)?];

/** The bad values of a string field with a length limit. */
function textCases(max: number, options: { required?: boolean; empty?: boolean } = {}): Case[] {
  const cases: Case[] = [
    ['wrong type (number)', 42, 422, 'field_type'],
    ['wrong type (array)', ['x'], 422, 'field_type'],
    ['wrong type (object)', { value: 'x' }, 422, 'field_type'],
    ['null', null, 422, 'field_type'],
    ['too long', long(max + 1), 422, 'field_too_long'],
  ];
  if (options.empty !== false) cases.push(['empty', '', 422, 'field_empty']);
  if (options.required) cases.push(['missing', MISSING, 422, 'field_required']);
  return cases;
}

/** The bad values of an https endpoint URL field. */
function endpointCases(): Case[] {
  return [
    ['wrong type (number)', 42, 422, 'field_type'],
    ['null', null, 422, 'field_type'],
    ['empty', '', 422, 'field_empty'],
    ['too long', longUrl(2049), 422, 'field_too_long'],
    ['not a URL', 'as.example.test/authorize', 422, 'field_invalid'],
    ['http://', 'http://as.example.test/endpoint', 422, 'endpoint_not_https'],
    ['another scheme', 'ftp://as.example.test/endpoint', 422, 'endpoint_not_https'],
    ['with a fragment', 'https://as.example.test/endpoint#x', 422, 'field_invalid'],
    ['with credentials', 'https://user:pw@as.example.test/endpoint', 422, 'field_invalid'],
  ];
}

/** The bad values of a field that is one of a few literals. */
function choiceCases(): Case[] {
  return [
    ['wrong type (number)', 42, 422, 'field_invalid'],
    ['null', null, 422, 'field_invalid'],
    ['empty', '', 422, 'field_invalid'],
    ['unknown value', 'something-else', 422, 'field_invalid'],
    ['wrong case', 'GLOBAL', 422, 'field_invalid'],
  ];
}

function scopeCases(): Case[] {
  return [
    ['wrong type (string)', 'https://mail.google.com/', 422, 'field_type'],
    ['null', null, 422, 'field_type'],
    ['empty list', [], 422, 'scopes_empty'],
    ['too many', Array.from({ length: 51 }, (_, i) => `scope${i}`), 422, 'field_too_long'],
    ['item of wrong type', [42], 422, 'field_type', 'scopes[0]'],
    ['empty item', ['ok', ''], 422, 'field_empty', 'scopes[1]'],
    ['blank item', ['   '], 422, 'field_invalid', 'scopes[0]'],
    ['item with inner space', ['mail read'], 422, 'field_invalid', 'scopes[0]'],
    ['item too long', [long(513)], 422, 'field_too_long', 'scopes[0]'],
  ];
}

const unique = () => `Bad input ${Math.random().toString(36).slice(2, 10)}`;

const linkBases = {
  google: () => ({ name: unique(), provider: 'google', clientId: 'id-1', clientSecret: 'bad-s1' }),
  microsoft: () => ({
    name: unique(),
    provider: 'microsoft',
    clientId: 'id-2',
    clientSecret: 'bad-s2',
  }),
  custom: () => ({
    name: unique(),
    provider: 'custom',
    clientId: 'id-3',
    clientSecret: 'bad-s3',
    scopes: ['mail'],
    authorizationEndpoint: 'https://as.example.test/authorize',
    tokenEndpoint: 'https://as.example.test/token',
  }),
  customByIssuer: () => ({
    name: unique(),
    provider: 'custom',
    clientId: 'id-4',
    clientSecret: 'bad-s4',
    scopes: ['mail'],
  }),
} as const;
type LinkKind = 'google' | 'microsoft' | 'custom';

/** Field → the link kind whose body it is tried on, and its bad values. */
const linkFieldCases = (): [string, keyof typeof linkBases, Case[]][] => [
  [
    'name',
    'google',
    [...textCases(100, { required: true }), ['blank', '   ', 422, 'field_invalid']],
  ],
  ['description', 'google', textCases(1000, { empty: false })],
  [
    'provider',
    'google',
    [
      ['wrong type (number)', 42, 422, 'unknown_provider'],
      ['null', null, 422, 'unknown_provider'],
      ['empty', '', 422, 'unknown_provider'],
      ['unknown provider', 'yahoo', 422, 'unknown_provider'],
      ['wrong case', 'Google', 422, 'unknown_provider'],
      ['too long', long(5000), 422, 'unknown_provider'],
      ['missing', MISSING, 422, 'field_required'],
    ],
  ],
  [
    'clientId',
    'google',
    [...textCases(512, { required: true }), ['blank', '  ', 422, 'field_invalid']],
  ],
  ['clientSecret', 'google', textCases(4096, { required: true })],
  ['scopes', 'custom', scopeCases()],
  ['authorizationEndpoint', 'custom', endpointCases()],
  ['tokenEndpoint', 'custom', endpointCases()],
  ['issuer', 'custom', endpointCases()],
  [
    'issuer',
    'customByIssuer',
    [
      ['http:// (to discover from)', 'http://127.0.0.1:1/', 422, 'endpoint_not_https'],
      ['not a URL', 'issuer', 422, 'field_invalid'],
    ],
  ],
  [
    'issuer',
    'google',
    [['on a preset provider', 'https://accounts.google.com', 422, 'field_not_applicable']],
  ],
  [
    'tenant',
    'microsoft',
    [
      ...textCases(253),
      ['not a tenant', 'contoso tenant!', 422, 'field_invalid'],
      ['a path', 'common/../x', 422, 'field_invalid'],
    ],
  ],
  ['tenant', 'google', [['on Google', 'common', 422, 'field_not_applicable']]],
  ['cloud', 'microsoft', choiceCases()],
  ['cloud', 'custom', [['on a custom provider', 'gcc', 422, 'field_not_applicable']]],
  [
    'clientAuthMethod',
    'custom',
    [...choiceCases(), ['unsupported', 'private_key_jwt', 422, 'field_invalid']],
  ],
  [
    'clientSecretExpiresAt',
    'google',
    [
      ['wrong type (number)', 1767225600, 422, 'field_type'],
      ['empty', '', 422, 'field_empty'],
      ['not a date', 'next year', 422, 'field_invalid'],
      ['a date without time', '2026-12-31', 422, 'field_invalid'],
      ['an impossible date', '2026-13-40T00:00:00Z', 422, 'field_invalid'],
    ],
  ],
];

function withField(base: Record<string, unknown>, field: string, value: unknown) {
  const body = { ...base };
  if (value === MISSING) delete body[field];
  else body[field] = value;
  return body;
}

function buildRows(): Row[] {
  const rows: Row[] = [];
  const push = (row: Omit<Row, 'auth'> & { auth?: boolean }) => rows.push({ auth: true, ...row });

  // POST /api/v1/links: every field on a body otherwise valid.
  for (const [field, kind, cases] of linkFieldCases()) {
    for (const [label, value, status, code, f] of cases) {
      push({
        label: `POST /api/v1/links ${field} (${kind}): ${label}`,
        method: 'POST',
        url: () => '/api/v1/links',
        json: () => withField(linkBases[kind](), field, value),
        status,
        code,
        field: f === undefined ? field : f,
      });
    }
  }
  push({
    label: 'POST /api/v1/links name: duplicate',
    method: 'POST',
    url: () => '/api/v1/links',
    json: (f) => ({ ...linkBases.google(), name: f.google.name }),
    status: 409,
    code: 'link_name_taken',
    field: 'name',
  });
  push({
    label: 'POST /api/v1/links name: duplicate in another case, padded',
    method: 'POST',
    url: () => '/api/v1/links',
    json: (f) => ({ ...linkBases.google(), name: ` ${f.google.name.toUpperCase()} ` }),
    status: 409,
    code: 'link_name_taken',
    field: 'name',
  });
  push({
    label: 'POST /api/v1/links custom: no endpoints and no issuer',
    method: 'POST',
    url: () => '/api/v1/links',
    json: () => linkBases.customByIssuer(),
    status: 422,
    code: 'endpoints_required',
    field: null,
  });
  for (const missing of ['authorizationEndpoint', 'tokenEndpoint']) {
    push({
      label: `POST /api/v1/links custom: ${missing} missing`,
      method: 'POST',
      url: () => '/api/v1/links',
      json: () => withField(linkBases.custom(), missing, MISSING),
      status: 422,
      code: 'endpoints_required',
      field: null,
    });
  }
  push({
    label: 'POST /api/v1/links custom: no scopes at all',
    method: 'POST',
    url: () => '/api/v1/links',
    json: () => withField(linkBases.custom(), 'scopes', MISSING),
    status: 422,
    code: 'scopes_empty',
    field: 'scopes',
  });
  for (const [label, extra] of [
    ['unknown field', { colour: 'red' }],
    ['a response-only field', { clientSecretSet: true }],
    ['a snake_case field', { client_secret: 'x' }],
  ] as const) {
    push({
      label: `POST /api/v1/links: ${label}`,
      method: 'POST',
      url: () => '/api/v1/links',
      json: () => ({ ...linkBases.google(), ...extra }),
      status: 422,
      code: 'unknown_field',
      field: Object.keys(extra)[0]!,
    });
  }

  // PATCH /api/v1/links/:id: the same fields on the fixture links; none may change them.
  for (const [field, kind, cases] of linkFieldCases()) {
    if (kind === 'customByIssuer') continue;
    const target: LinkKind = kind;
    for (const [label, value, status, code, f] of cases) {
      if (value === MISSING) continue;
      if (field === 'scopes' && label === 'empty list') continue;
      push({
        label: `PATCH /api/v1/links/:id ${field} (${target}): ${label}`,
        method: 'PATCH',
        url: (fx) => `/api/v1/links/${fx[target].id}`,
        json: () => ({ [field]: value }),
        status,
        code,
        field: f === undefined ? field : f,
      });
    }
  }
  push({
    label: 'PATCH /api/v1/links/:id scopes: empty list',
    method: 'PATCH',
    url: (f) => `/api/v1/links/${f.custom.id}`,
    json: () => ({ scopes: [] }),
    status: 422,
    code: 'scopes_empty',
    field: 'scopes',
  });
  push({
    label: 'PATCH /api/v1/links/:id provider: another provider',
    method: 'PATCH',
    url: (f) => `/api/v1/links/${f.google.id}`,
    json: () => ({ provider: 'microsoft' }),
    status: 422,
    code: 'provider_immutable',
    field: 'provider',
  });
  push({
    label: 'PATCH /api/v1/links/:id name: another link’s name in another case',
    method: 'PATCH',
    url: (f) => `/api/v1/links/${f.google.id}`,
    json: (f) => ({ name: f.microsoft.name.toLowerCase() }),
    status: 409,
    code: 'link_name_taken',
    field: 'name',
  });
  push({
    label: 'PATCH /api/v1/links/:id issuer: http:// with both endpoints typed',
    method: 'PATCH',
    url: (f) => `/api/v1/links/${f.custom.id}`,
    json: () => ({
      issuer: 'http://as.example.test',
      authorizationEndpoint: 'https://as.example.test/authorize',
      tokenEndpoint: 'https://as.example.test/token',
    }),
    status: 422,
    code: 'endpoint_not_https',
    field: 'issuer',
  });
  push({
    label: 'PATCH /api/v1/links/:id: unknown field',
    method: 'PATCH',
    url: (f) => `/api/v1/links/${f.google.id}`,
    json: () => ({ description: 'fine', id: UNKNOWN_ID }),
    status: 422,
    code: 'unknown_field',
    field: 'id',
  });

  // A valid new secret beside one bad field: nothing of the update may land.
  for (const [label, target, body, status, code, field] of [
    [
      'a taken name',
      'google',
      (f: Fixture) => ({ name: f.microsoft.name }),
      409,
      'link_name_taken',
      'name',
    ],
    [
      'an http:// token endpoint',
      'custom',
      () => ({ tokenEndpoint: 'http://as.example.test/t' }),
      422,
      'endpoint_not_https',
      'tokenEndpoint',
    ],
    [
      'another provider',
      'google',
      () => ({ provider: 'custom' }),
      422,
      'provider_immutable',
      'provider',
    ],
    [
      'a tenant on Google',
      'google',
      () => ({ tenant: 'common' }),
      422,
      'field_not_applicable',
      'tenant',
    ],
    ['no scopes left', 'custom', () => ({ scopes: [] }), 422, 'scopes_empty', 'scopes'],
  ] as const) {
    push({
      label: `PATCH /api/v1/links/:id clientSecret and ${label}`,
      method: 'PATCH',
      url: (f) => `/api/v1/links/${f[target].id}`,
      json: (f) => ({ clientSecret: 'a-new-valid-secret', description: 'changed', ...body(f) }),
      status,
      code,
      field,
    });
  }

  // Path parameters.
  for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
    const json = method === 'PATCH' ? () => ({ description: 'x' }) : undefined;
    push({
      label: `${method} /api/v1/links/:id: not a uuid`,
      method,
      url: () => '/api/v1/links/not-a-uuid',
      json,
      status: 422,
      code: 'field_invalid',
      field: 'id',
    });
    push({
      label: `${method} /api/v1/links/:id: too long`,
      method,
      url: () => `/api/v1/links/${UNKNOWN_ID}${UNKNOWN_ID}`,
      json,
      status: 422,
      code: 'field_too_long',
      field: 'id',
    });
    push({
      label: `${method} /api/v1/links/:id: unknown uuid`,
      method,
      url: () => `/api/v1/links/${UNKNOWN_ID}`,
      json,
      status: 404,
      code: 'link_not_found',
      field: null,
    });
  }
  push({
    label: 'DELETE /api/v1/api-tokens/:id: not a uuid',
    method: 'DELETE',
    url: () => '/api/v1/api-tokens/olk_not-an-id',
    status: 422,
    code: 'field_invalid',
    field: 'id',
  });
  push({
    label: 'DELETE /api/v1/api-tokens/:id: unknown uuid',
    method: 'DELETE',
    url: () => `/api/v1/api-tokens/${UNKNOWN_ID}`,
    status: 404,
    code: 'api_token_not_found',
    field: null,
  });

  // POST /api/v1/session (public) and POST /api/v1/session/password.
  const login = { username: 'admin', password: 'not-the-password' };
  for (const [field, max] of [
    ['username', 100],
    ['password', 256],
  ] as const) {
    for (const [label, value, status, code, f] of textCases(max, { required: true })) {
      push({
        label: `POST /api/v1/session ${field}: ${label}`,
        method: 'POST',
        url: () => '/api/v1/session',
        json: () => withField(login, field, value),
        auth: false,
        status,
        code,
        field: f === undefined ? field : f,
      });
    }
  }
  push({
    label: 'POST /api/v1/session: unknown field',
    method: 'POST',
    url: () => '/api/v1/session',
    json: () => ({ ...login, remember: true }),
    auth: false,
    status: 422,
    code: 'unknown_field',
    field: 'remember',
  });
  const change = { currentPassword: ADMIN_PASSWORD, newPassword: 'a-new-password-2' };
  for (const [field, extra] of [
    ['currentPassword', [] as Case[]],
    ['newPassword', [['too short', 'short-pw', 422, 'field_invalid']] as Case[]],
  ] as const) {
    for (const [label, value, status, code, f] of [
      ...textCases(256, { required: true }),
      ...extra,
    ]) {
      push({
        label: `POST /api/v1/session/password ${field}: ${label}`,
        method: 'POST',
        url: () => '/api/v1/session/password',
        json: () => withField(change, field, value),
        status,
        code,
        field: f === undefined ? field : f,
      });
    }
  }
  push({
    label: 'POST /api/v1/session/password currentPassword: wrong',
    method: 'POST',
    url: () => '/api/v1/session/password',
    json: () => ({ ...change, currentPassword: 'wrong-password-1' }),
    status: 403,
    code: 'password_incorrect',
    field: null,
  });
  push({
    label: 'POST /api/v1/session/password: unknown field',
    method: 'POST',
    url: () => '/api/v1/session/password',
    json: () => ({ ...change, username: 'admin' }),
    status: 422,
    code: 'unknown_field',
    field: 'username',
  });

  // POST /api/v1/api-tokens.
  const tokenCases: [string, Case[]][] = [
    ['name', [...textCases(100, { required: true }), ['blank', '   ', 422, 'field_invalid']]],
    [
      'scopes',
      [
        ['wrong type (string)', 'admin', 422, 'field_type'],
        ['null', null, 422, 'field_type'],
        ['empty list', [], 422, 'field_empty'],
        ['unknown scope', ['root'], 422, 'field_invalid', 'scopes[0]'],
        ['item of wrong type', [1], 422, 'field_invalid', 'scopes[0]'],
        ['duplicates', ['admin', 'admin'], 422, 'field_invalid'],
        ['too many', ['admin', 'token:read', 'metrics:read', 'admin'], 422, 'field_too_long'],
      ],
    ],
    [
      'linkIds',
      [
        ['wrong type (string)', UNKNOWN_ID, 422, 'field_type'],
        ['null', null, 422, 'field_type'],
        ['not a uuid', ['link-1'], 422, 'field_invalid', 'linkIds[0]'],
        ['empty item', [''], 422, 'field_empty', 'linkIds[0]'],
        ['unknown link', [UNKNOWN_ID], 422, 'field_invalid'],
        ['duplicates', [UNKNOWN_ID, UNKNOWN_ID], 422, 'field_invalid'],
        [
          'too many',
          Array.from(
            { length: 101 },
            (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          ),
          422,
          'field_too_long',
        ],
      ],
    ],
    [
      'connectionIds',
      [
        ['wrong type (number)', 7, 422, 'field_type'],
        ['not a uuid', ['c'], 422, 'field_invalid', 'connectionIds[0]'],
        ['unknown connection', [UNKNOWN_ID], 422, 'field_invalid'],
      ],
    ],
  ];
  for (const [field, cases] of tokenCases) {
    for (const [label, value, status, code, f] of cases) {
      const scoped = field === 'linkIds' || field === 'connectionIds';
      push({
        label: `POST /api/v1/api-tokens ${field}: ${label}`,
        method: 'POST',
        url: () => '/api/v1/api-tokens',
        json: () =>
          withField({ name: 'bad', ...(scoped ? { scopes: ['token:read'] } : {}) }, field, value),
        status,
        code,
        field: f === undefined ? field : f,
      });
    }
  }
  push({
    label: 'POST /api/v1/api-tokens linkIds: with the admin scope',
    method: 'POST',
    url: () => '/api/v1/api-tokens',
    json: (f) => ({ name: 'bad', scopes: ['admin'], linkIds: [f.google.id] }),
    status: 422,
    code: 'field_invalid',
    field: 'linkIds',
  });
  push({
    label: 'POST /api/v1/api-tokens: unknown field',
    method: 'POST',
    url: () => '/api/v1/api-tokens',
    json: () => ({ name: 'bad', expiresAt: '2030-01-01T00:00:00Z' }),
    status: 422,
    code: 'unknown_field',
    field: 'expiresAt',
  });

  // Query strings.
  const query = (
    path: string,
    qs: string,
    status: number,
    code: string,
    field: string | null,
    label: string,
  ) =>
    push({
      label: `GET ${path}?${qs}: ${label}`,
      method: 'GET',
      url: () => `${path}?${qs}`,
      status,
      code,
      field,
    });
  const enc = encodeURIComponent;
  const redirect = '/api/v1/redirect-url';
  query(redirect, '', 422, 'field_required', 'provider', 'provider missing');
  query(redirect, 'provider=', 422, 'unknown_provider', 'provider', 'provider empty');
  query(redirect, 'provider=yahoo', 422, 'unknown_provider', 'provider', 'unknown provider');
  query(
    redirect,
    `provider=${long(300)}`,
    422,
    'unknown_provider',
    'provider',
    'provider too long',
  );
  query(
    redirect,
    'provider=google&provider=custom',
    422,
    'unknown_provider',
    'provider',
    'provider repeated',
  );
  query(
    redirect,
    'provider=custom',
    422,
    'field_required',
    'authorizationEndpoint',
    'custom without endpoint',
  );
  query(
    redirect,
    'provider=custom&authorizationEndpoint=',
    422,
    'field_empty',
    'authorizationEndpoint',
    'endpoint empty',
  );
  query(
    redirect,
    `provider=custom&authorizationEndpoint=${enc('as.example.test/a')}`,
    422,
    'field_invalid',
    'authorizationEndpoint',
    'endpoint not a URL',
  );
  query(
    redirect,
    `provider=custom&authorizationEndpoint=${enc('http://as.example.test/a')}`,
    422,
    'endpoint_not_https',
    'authorizationEndpoint',
    'http:// endpoint',
  );
  query(
    redirect,
    `provider=custom&authorizationEndpoint=${enc(longUrl(2049))}`,
    422,
    'field_too_long',
    'authorizationEndpoint',
    'endpoint too long',
  );
  query(redirect, 'provider=microsoft&tenant=', 422, 'field_empty', 'tenant', 'tenant empty');
  query(
    redirect,
    `provider=microsoft&tenant=${enc('not a tenant!')}`,
    422,
    'field_invalid',
    'tenant',
    'tenant invalid',
  );
  query(
    redirect,
    `provider=microsoft&tenant=${long(254)}`,
    422,
    'field_too_long',
    'tenant',
    'tenant too long',
  );
  query(redirect, 'provider=google&scope=x', 422, 'unknown_field', 'scope', 'unknown parameter');

  for (const path of ['/api/v1/links', '/api/v1/events']) {
    query(path, 'limit=0', 422, 'field_invalid', 'limit', 'limit below 1');
    query(path, 'limit=-5', 422, 'field_invalid', 'limit', 'negative limit');
    query(path, 'limit=201', 422, 'field_invalid', 'limit', 'limit above 200');
    query(path, 'limit=ten', 422, 'field_type', 'limit', 'limit not a number');
    query(path, 'limit=', 422, 'field_type', 'limit', 'limit empty');
    query(path, 'cursor=not-a-cursor', 422, 'field_invalid', 'cursor', 'cursor not issued here');
    query(path, 'order=asc', 422, 'unknown_field', 'order', 'unknown parameter');
  }
  query('/api/v1/links', `cursor=${long(513)}`, 422, 'field_too_long', 'cursor', 'cursor too long');
  query('/api/v1/events', `cursor=${long(65)}`, 422, 'field_too_long', 'cursor', 'cursor too long');
  query('/api/v1/events', 'type=link.exploded', 422, 'field_invalid', 'type', 'unknown type');
  query('/api/v1/events', 'type=', 422, 'field_invalid', 'type', 'type empty');
  query('/api/v1/events', 'linkId=link-1', 422, 'field_invalid', 'linkId', 'linkId not a uuid');
  query('/api/v1/events', 'linkId=', 422, 'field_empty', 'linkId', 'linkId empty');
  query('/api/v1/events', `linkId=${long(37)}`, 422, 'field_too_long', 'linkId', 'linkId too long');

  // The framing of every body: JSON or nothing.
  const bodies: [string, Method, (f: Fixture) => string, (f: Fixture) => object, boolean][] = [
    ['POST /api/v1/links', 'POST', () => '/api/v1/links', () => linkBases.google(), true],
    [
      'PATCH /api/v1/links/:id',
      'PATCH',
      (f) => `/api/v1/links/${f.google.id}`,
      () => ({ description: 'x' }),
      true,
    ],
    ['POST /api/v1/session', 'POST', () => '/api/v1/session', () => login, false],
    ['POST /api/v1/session/password', 'POST', () => '/api/v1/session/password', () => change, true],
    [
      'POST /api/v1/api-tokens',
      'POST',
      () => '/api/v1/api-tokens',
      () => ({ name: 'framing' }),
      true,
    ],
  ];
  for (const [route, method, url, valid, auth] of bodies) {
    const framing: [string, Row['raw'], number, string, string | null][] = [
      [
        'malformed JSON',
        { payload: '{"name": "x",', contentType: 'application/json' },
        400,
        'body_malformed',
        null,
      ],
      [
        'trailing garbage',
        { payload: '{"name": "x"} x', contentType: 'application/json' },
        400,
        'body_malformed',
        null,
      ],
      [
        'empty JSON body',
        { payload: '', contentType: 'application/json' },
        400,
        'body_malformed',
        null,
      ],
      [
        'a JSON array',
        { payload: '[]', contentType: 'application/json' },
        422,
        'field_type',
        'body',
      ],
      [
        'a JSON string',
        { payload: '"name"', contentType: 'application/json' },
        422,
        'field_type',
        'body',
      ],
      [
        'a JSON number',
        { payload: '42', contentType: 'application/json' },
        422,
        'field_type',
        'body',
      ],
      [
        'JSON null',
        { payload: 'null', contentType: 'application/json' },
        422,
        'field_type',
        'body',
      ],
      [
        'no content type',
        { payload: JSON.stringify(valid({} as Fixture)) },
        415,
        'unsupported_media_type',
        null,
      ],
      [
        'text/plain',
        { payload: JSON.stringify(valid({} as Fixture)), contentType: 'text/plain' },
        415,
        'unsupported_media_type',
        null,
      ],
      [
        'a form',
        { payload: 'name=x', contentType: 'application/x-www-form-urlencoded' },
        415,
        'unsupported_media_type',
        null,
      ],
      [
        'larger than 64 KiB',
        {
          payload: JSON.stringify({ ...valid({} as Fixture), padding: long(64 * 1024) }),
          contentType: 'application/json',
        },
        413,
        'body_too_large',
        null,
      ],
    ];
    for (const [label, raw, status, code, field] of framing) {
      rows.push({ label: `${route}: ${label}`, method, url, raw, auth, status, code, field });
    }
  }
  return rows;
}

/** Every table a request could write to, rows sorted so two snapshots compare exactly. */
const TABLES = ['links', 'connections', 'events', 'api_tokens', 'users', 'sessions'] as const;

async function snapshot(outlink: TestOutlink): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await outlink.services.store.db.selectFrom(table).selectAll().execute();
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

const rows = buildRows();

for (const dialect of Dialects) {
  describe(`bad input on ${dialect}`, () => {
    let outlink: TestOutlink;
    let fixture: Fixture;
    let admin: Record<string, string>;
    let baseline: Record<string, string[]>;

    before(async () => {
      outlink = await startOutlink(dialect);
      admin = await outlink.adminHeaders();
      const make = async (kind: LinkKind) => {
        const res = await outlink.app.inject({
          method: 'POST',
          url: '/api/v1/links',
          headers: admin,
          payload: linkBases[kind](),
        });
        assert.equal(res.statusCode, 201, res.body);
        const { id, name } = res.json() as { id: string; name: string };
        return { id, name };
      };
      const token = await outlink.app.inject({
        method: 'POST',
        url: '/api/v1/api-tokens',
        headers: admin,
        payload: { name: 'fixture' },
      });
      fixture = {
        google: await make('google'),
        microsoft: await make('microsoft'),
        custom: await make('custom'),
        tokenId: (token.json() as { id: string }).id,
      };
      baseline = await snapshot(outlink);
      assert.equal(baseline.links?.length, 3);
    });

    after(async () => {
      await outlink?.close();
    });

    const send = (row: Row): Promise<LightMyRequestResponse> => {
      const headers: Record<string, string> = row.auth ? { ...admin } : {};
      if (row.raw) {
        if (row.raw.contentType) headers['content-type'] = row.raw.contentType;
        return outlink.app.inject({
          method: row.method,
          url: row.url(fixture),
          headers,
          payload: row.raw.payload,
        });
      }
      const json = row.json?.(fixture);
      if (json !== undefined) headers['content-type'] = 'application/json';
      return outlink.app.inject({
        method: row.method,
        url: row.url(fixture),
        headers,
        ...(json !== undefined ? { payload: JSON.stringify(json) } : {}),
      });
    };

    for (const row of rows) {
      it(`${row.label} → ${row.status} ${row.code}`, async () => {
        const res = await send(row);
        assert.equal(res.statusCode, row.status, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const body = res.json() as { error: Record<string, unknown> };
        assert.deepEqual(Object.keys(body), ['error']);
        assert.equal(body.error.code, row.code, res.body);
        assert.equal(typeof body.error.message, 'string');
        assert.ok((body.error.message as string).length > 0);
        if (row.field !== null) assert.equal(body.error.field, row.field, res.body);
        assert.deepEqual(await snapshot(outlink), baseline, 'the database must be untouched');
      });
    }

    it('has asked about every route that takes input', () => {
      const routes = new Set(rows.map((r) => `${r.method} ${r.label.split(' ')[1]}`));
      for (const route of [
        'POST /api/v1/links',
        'PATCH /api/v1/links/:id',
        'GET /api/v1/links/:id',
        'DELETE /api/v1/links/:id',
        'GET /api/v1/links',
        'POST /api/v1/session',
        'POST /api/v1/session/password',
        'POST /api/v1/api-tokens',
        'DELETE /api/v1/api-tokens/:id',
        'GET /api/v1/redirect-url',
        'GET /api/v1/events',
      ]) {
        assert.ok(
          [...routes].some((r) => r.startsWith(route)),
          `no bad-input row for ${route}`,
        );
      }
    });
  });
}
