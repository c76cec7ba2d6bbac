import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { routesOf } from '../../src/http/app.js';
import { Dialects, startOutlink, type TestOutlink } from '../support/harness.js';

/**
 * The bad-input matrix of every route, generated from the OpenAPI document (issue 11, "Every
 * route"): for each path parameter, query parameter, header and body field the document
 * declares, the values clients get wrong — missing, wrong-typed, oversized, unknown, malformed
 * ids — each answered with its exact status and catalog code, never a 500, and never a change
 * to the database. A route added without a schema for its parameters or body fails here.
 * test/http/bad-input.test.ts keeps the hand-written rows of the eleven first routes, whose
 * cases need more than a schema can say (duplicates, provider rules, cursors).
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A JSON schema as @fastify/swagger writes it into the document (OpenAPI 3.0). */
interface Schema {
  readonly type?: string;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly nullable?: boolean;
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly 'x-error'?: string;
}

interface Parameter {
  readonly in: 'path' | 'query' | 'header';
  readonly name: string;
  readonly required?: boolean;
  readonly schema: Schema;
}

interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content: { readonly 'application/json': { schema: Schema } } };
}

type OpenApi = { readonly paths: Record<string, Partial<Record<string, Operation>>> };

/**
 * Routes that act on their path alone: a body would be ignored, so they declare none. A new
 * POST, PATCH or PUT route must either declare its body or be named here on purpose.
 */
const BODILESS = new Set([
  'POST /api/v1/connections/:id/refresh',
  'POST /api/v1/mail-servers/:id/poll',
  'POST /api/v1/links/:id/diagnose',
]);

/** Routes whose body may be left out: JSON `null` is then no body, not a wrong type. */
const OPTIONAL_BODY = new Set(['POST /api/v1/mail-servers/:id/test']);

/** What an unknown id in each route's path answers (404), by the route's path. */
const NOT_FOUND: Readonly<Record<string, string>> = {
  '/api/v1/api-tokens/:id': 'api_token_not_found',
  '/api/v1/links/:id': 'link_not_found',
  '/api/v1/links/:id/authorizations': 'link_not_found',
  '/api/v1/links/:id/connections': 'link_not_found',
  '/api/v1/links/:id/token': 'link_not_found',
  '/api/v1/links/:id/diagnose': 'link_not_found',
  '/api/v1/authorizations/:id': 'flow_not_found',
  '/api/v1/connections/:id': 'connection_not_found',
  '/api/v1/connections/:id/refresh': 'connection_not_found',
  '/api/v1/connections/:id/token': 'connection_not_found',
  '/api/v1/connections/:id/reauthorization': 'connection_not_found',
  '/api/v1/mail-servers/:id': 'mail_server_not_found',
  '/api/v1/mail-servers/:id/test': 'mail_server_not_found',
  '/api/v1/mail-servers/:id/poll': 'mail_server_not_found',
  '/api/v1/mail-servers/:id/handler': 'mail_server_not_found',
  '/api/v1/issues/:key': 'issue_not_found',
  '/api/v1/issues/:key/attachments/:id': 'issue_not_found',
  '/api/v1/webhooks/:id': 'webhook_not_found',
};

/** `/api/v1/links/{id}` → `/api/v1/links/:id`. */
const fastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/** One generated request and the answer it must get. */
interface Row {
  readonly route: string;
  readonly label: string;
  readonly method: Method;
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A JSON value sent as the body, or a raw body with its content type. */
  readonly json?: unknown;
  readonly raw?: { readonly payload: string; readonly contentType: string };
  readonly status: number;
  readonly code: string;
  /** The `field` the answer names; null when it names none. */
  readonly field: string | null;
}

const UNKNOWN_UUID = '00000000-0000-4000-8000-0000000000ff';
const UNKNOWN_KEY = 'NOPE-999999';

/** A value the schema accepts, the smallest that does (required object fields only). */
function sample(schema: Schema): unknown {
  if (schema.anyOf) {
    const first = schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0]!;
    return sample(first);
  }
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = sample(schema.properties![name]!);
      return out;
    }
    case 'array': {
      const item = sample(schema.items ?? {});
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => item);
    }
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return true;
    default:
      return sampleString(schema);
  }
}

function sampleString(schema: Schema): string {
  if (schema.format === 'uuid') return UNKNOWN_UUID;
  if (schema.format === 'uri') return 'https://receiver.example.test/hook';
  if (schema.format === 'date-time') return '2030-01-01T00:00:00Z';
  const candidates = ['sample', 'mail.example.test', 'someone@example.test', 'common', 'ABC-1'];
  const min = schema.minLength ?? 0;
  for (const c of candidates) {
    const value = c.length >= min ? c : c.padEnd(min, 'x');
    if (!schema.pattern || new RegExp(schema.pattern, 'u').test(value)) return value;
  }
  throw new Error(`no sample string for ${JSON.stringify(schema)}`);
}

/** The code a value the schema refuses answers with, given the check that refuses it. */
function codeFor(schema: Schema, fallback: string): string {
  return schema['x-error'] ?? (schema.anyOf ? 'field_invalid' : fallback);
}

/** A JSON value of the wrong type for `schema`, and the code it answers. */
function wrongType(schema: Schema): [unknown, string] | undefined {
  if (schema.anyOf || schema.enum) return [42, codeFor(schema, 'field_invalid')];
  switch (schema.type) {
    case 'string':
      return [42, codeFor(schema, 'field_type')];
    case 'integer':
    case 'number':
      return ['ten', codeFor(schema, 'field_type')];
    case 'boolean':
      return ['yes', codeFor(schema, 'field_type')];
    case 'array':
    case 'object':
      return ['text', codeFor(schema, 'field_type')];
    default:
      return undefined;
  }
}

/** A value larger than `schema` allows, and the code it answers. */
function oversized(schema: Schema): [unknown, string] | undefined {
  if (schema.type === 'string' && schema.maxLength !== undefined) {
    return ['a'.repeat(schema.maxLength + 1), codeFor(schema, 'field_too_long')];
  }
  if (schema.type === 'array' && schema.maxItems !== undefined) {
    const items = Array.from({ length: schema.maxItems + 1 }, (_, i) =>
      schema.uniqueItems && schema.items?.format === 'uuid'
        ? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
        : sample(schema.items ?? {}),
    );
    return [items, codeFor(schema, 'field_too_long')];
  }
  if ((schema.type === 'integer' || schema.type === 'number') && schema.maximum !== undefined) {
    return [schema.maximum + 1, codeFor(schema, 'field_invalid')];
  }
  return undefined;
}

/** A string of the right type and length that the format or pattern refuses. */
function malformed(schema: Schema): [string, string] | undefined {
  if (schema.type !== 'string') return undefined;
  if (schema.format === 'uuid') return ['not-a-uuid', codeFor(schema, 'field_invalid')];
  if (schema.format === 'uri') return ['not a url', codeFor(schema, 'field_invalid')];
  if (schema.format === 'date-time') return ['tomorrow', codeFor(schema, 'field_invalid')];
  if (schema.pattern && !new RegExp(schema.pattern, 'u').test('!!')) {
    return ['!!', codeFor(schema, 'field_invalid')];
  }
  return undefined;
}

/** Every row for one operation of the document. */
function rowsFor(path: string, method: Method, op: Operation): Row[] {
  const route = `${method} ${fastifyPath(path)}`;
  const rows: Row[] = [];
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const query = params.filter((p) => p.in === 'query');
  const headers = params.filter((p) => p.in === 'header');
  const bodySchema = op.requestBody?.content['application/json'].schema;
  const baseBody = bodySchema ? sample(bodySchema) : undefined;
  const baseQuery: Record<string, string> = {};
  for (const p of query) if (p.required) baseQuery[p.name] = String(sample(p.schema));

  const urlWith = (
    values: Record<string, string> = {},
    q: Record<string, string> = baseQuery,
  ): string => {
    let url = path;
    for (const p of pathParams) {
      const value = values[p.name] ?? String(sample(p.schema));
      url = url.replace(`{${p.name}}`, encodeURIComponent(value));
    }
    const qs = new URLSearchParams(q).toString();
    return qs ? `${url}?${qs}` : url;
  };
  const push = (row: Omit<Row, 'route' | 'method'>) =>
    rows.push({
      route,
      method,
      ...(bodySchema && row.json === undefined && !row.raw ? { json: baseBody } : {}),
      ...row,
    });

  // Path parameters: malformed, too long, and well-formed but unknown.
  for (const p of pathParams) {
    const bad = malformed(p.schema);
    if (bad) {
      push({
        label: `${p.name}: malformed`,
        url: urlWith({ [p.name]: bad[0] }),
        status: 422,
        code: bad[1],
        field: p.name,
      });
    }
    const long = oversized(p.schema);
    if (long) {
      push({
        label: `${p.name}: too long`,
        url: urlWith({ [p.name]: String(long[0]) }),
        status: 422,
        code: long[1],
        field: p.name,
      });
    }
  }
  if (pathParams.length > 0) {
    const values = Object.fromEntries(
      pathParams.map((p) => [p.name, p.schema.format === 'uuid' ? UNKNOWN_UUID : UNKNOWN_KEY]),
    );
    push({
      label: 'unknown id',
      url: urlWith(values),
      status: 404,
      code: NOT_FOUND[fastifyPath(path)] ?? `(no 404 code listed for ${fastifyPath(path)})`,
      field: null,
    });
  }

  // Query parameters: missing, wrong type, oversized, malformed; an unknown one.
  for (const p of query) {
    const set = (value: string) => ({ ...baseQuery, [p.name]: value });
    if (p.required) {
      const { [p.name]: _gone, ...rest } = baseQuery;
      push({
        label: `?${p.name}: missing`,
        url: urlWith({}, rest),
        status: 422,
        code: 'field_required',
        field: p.name,
      });
    }
    const schema = p.schema;
    if (schema.type === 'integer' || schema.type === 'number') {
      push({
        label: `?${p.name}: not a number`,
        url: urlWith({}, set('ten')),
        status: 422,
        code: codeFor(schema, 'field_type'),
        field: p.name,
      });
    }
    if (schema.anyOf || schema.enum) {
      push({
        label: `?${p.name}: not one of its values`,
        url: urlWith({}, set('no-such-value')),
        status: 422,
        code: codeFor(schema, 'field_invalid'),
        field: p.name,
      });
    }
    const long = oversized(schema);
    if (long) {
      push({
        label: `?${p.name}: too large`,
        url: urlWith({}, set(String(long[0]))),
        status: 422,
        code: long[1],
        field: p.name,
      });
    }
    const bad = malformed(schema);
    if (bad) {
      push({
        label: `?${p.name}: malformed`,
        url: urlWith({}, set(bad[0])),
        status: 422,
        code: bad[1],
        field: p.name,
      });
    }
  }
  if (query.length > 0) {
    push({
      label: '?unknown parameter',
      url: urlWith({}, { ...baseQuery, zzUnknown: '1' }),
      status: 422,
      code: 'unknown_field',
      field: 'zzUnknown',
    });
  }

  // Headers: oversized values.
  for (const h of headers) {
    const long = oversized(h.schema);
    if (!long) continue;
    push({
      label: `header ${h.name}: too long`,
      url: urlWith(),
      headers: { [h.name]: String(long[0]) },
      status: 422,
      code: long[1],
      field: h.name,
    });
  }

  // The body: its framing, then every field.
  if (bodySchema) {
    const url = urlWith();
    const framing: [string, string, string, number, string, string | null][] = [
      ['malformed JSON', '{"a": ', 'application/json', 400, 'body_malformed', null],
      ['a JSON array', '[]', 'application/json', 422, 'field_type', 'body'],
      ['JSON null', 'null', 'application/json', 422, 'field_type', 'body'],
      ['a form', 'a=1', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type', null],
      ['text/plain', '{}', 'text/plain', 415, 'unsupported_media_type', null],
    ];
    for (const [label, payload, contentType, status, code, field] of framing) {
      if (label === 'JSON null' && OPTIONAL_BODY.has(route)) continue;
      push({ label: `body: ${label}`, url, raw: { payload, contentType }, status, code, field });
    }
    push({
      label: 'body: larger than 64 KiB',
      url,
      raw: {
        payload: JSON.stringify({ padding: 'a'.repeat(64 * 1024) }),
        contentType: 'application/json',
      },
      status: 413,
      code: 'body_too_large',
      field: null,
    });
    push({
      label: 'body: unknown field',
      url,
      json: { ...(baseBody as object), zzUnknown: 1 },
      status: 422,
      code: 'unknown_field',
      field: 'zzUnknown',
    });
    for (const [name, schema] of Object.entries(bodySchema.properties ?? {})) {
      const withValue = (value: unknown) => ({ ...(baseBody as object), [name]: value });
      if (bodySchema.required?.includes(name)) {
        const { [name]: _gone, ...rest } = baseBody as Record<string, unknown>;
        push({
          label: `${name}: missing`,
          url,
          json: rest,
          status: 422,
          code: 'field_required',
          field: name,
        });
      }
      const cases: [string, [unknown, string] | undefined][] = [
        ['wrong type', wrongType(schema)],
        ['too large', oversized(schema)],
        ['malformed', malformed(schema)],
      ];
      const nullable =
        schema.nullable || schema.anyOf?.some((s) => s.nullable || s.type === 'null');
      if (!nullable) cases.push(['null', wrongType(schema) && [null, wrongType(schema)![1]]]);
      if (schema.type === 'string' && (schema.minLength ?? 0) >= 1) {
        cases.push(['empty', ['', codeFor(schema, 'field_empty')]]);
      }
      for (const [label, found] of cases) {
        if (!found) continue;
        push({
          label: `${name}: ${label}`,
          url,
          json: withValue(found[0]),
          status: 422,
          code: found[1],
          field: name,
        });
      }
    }
  }
  return rows;
}

/** Every table a request could write to, rows sorted so two snapshots compare exactly. */
const TABLES = [
  'links',
  'connections',
  'events',
  'api_tokens',
  'users',
  'sessions',
  'mail_servers',
  'webhooks',
  'authorization_flows',
] as const;

async function snapshot(outlink: TestOutlink): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await outlink.services.store.db.selectFrom(table).selectAll().execute();
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

for (const dialect of Dialects) {
  describe(`the bad-input matrix of every route, from the OpenAPI document, on ${dialect}`, () => {
    let outlink: TestOutlink;
    let admin: Record<string, string>;
    let doc: OpenApi;
    let rows: Row[];
    let baseline: Record<string, string[]>;

    before(async () => {
      outlink = await startOutlink(dialect);
      admin = await outlink.adminHeaders();
      doc = (outlink.app as unknown as { swagger(): OpenApi }).swagger();
      rows = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const [method, op] of Object.entries(ops)) {
          if (!op) continue;
          rows.push(...rowsFor(path, method.toUpperCase() as Method, op));
        }
      }
      baseline = await snapshot(outlink);
    });
    after(() => outlink?.close());

    it('every API route is in the document, with a schema for its path, body and query', () => {
      const api = routesOf(outlink.app).filter(
        (r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD',
      );
      assert.ok(api.length >= 38, `${api.length} routes`);
      const problems: string[] = [];
      for (const { method, url } of api) {
        const op = doc.paths[url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()];
        const route = `${method} ${url}`;
        if (!op) {
          problems.push(`${route} is not in the OpenAPI document`);
          continue;
        }
        const declared = new Set(
          (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        );
        for (const [, name] of url.matchAll(/:([A-Za-z0-9_]+)/g)) {
          if (!declared.has(name!)) problems.push(`${route} declares no schema for :${name}`);
        }
        for (const p of op.parameters ?? []) {
          const s = p.schema;
          if (s.type === 'string' && s.maxLength === undefined && !s.anyOf && !s.enum) {
            problems.push(`${route} ${p.in} ${p.name} has no maxLength`);
          }
        }
        if (['POST', 'PATCH', 'PUT'].includes(method)) {
          const body = op.requestBody?.content['application/json'].schema;
          if (BODILESS.has(route)) {
            if (body) problems.push(`${route} has a body now: take it off BODILESS`);
          } else if (!body) {
            problems.push(`${route} declares no body schema`);
          } else if (body.additionalProperties !== false) {
            problems.push(`${route} accepts unknown body fields`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });

    it('generated a row for every route that takes input', () => {
      const covered = new Set(rows.map((r) => r.route));
      for (const { method, url } of routesOf(outlink.app)) {
        if (!url.startsWith('/api/v1/') || method === 'HEAD') continue;
        const op = doc.paths[url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()];
        const takesInput = (op?.parameters?.length ?? 0) > 0 || op?.requestBody !== undefined;
        if (takesInput) assert.ok(covered.has(`${method} ${url}`), `no rows for ${method} ${url}`);
      }
      for (const route of [
        'GET /api/v1/connections/:id/token',
        'GET /api/v1/links/:id/token',
        'POST /api/v1/links/:id/authorizations',
        'GET /api/v1/authorizations/:id',
        'POST /api/v1/connections/:id/refresh',
        'POST /api/v1/links/:id/diagnose',
        'DELETE /api/v1/connections/:id',
        'POST /api/v1/webhooks',
        'DELETE /api/v1/webhooks/:id',
        'POST /api/v1/mail-servers',
      ]) {
        assert.ok(covered.has(route), route);
      }
      assert.ok(rows.length > 300, `${rows.length} rows`);
    });

    it('answers each row with its exact status and code, and changes nothing', async () => {
      const failures: string[] = [];
      for (const row of rows) {
        const res = await send(row);
        const problem = check(row, res);
        if (problem) failures.push(`${row.route} ${row.label}: ${problem}`);
      }
      assert.deepEqual(failures, []);
      assert.deepEqual(await snapshot(outlink), baseline, 'the database must be untouched');
    });

    const send = (row: Row): Promise<LightMyRequestResponse> => {
      const headers: Record<string, string> = { ...admin, ...row.headers };
      if (row.raw) {
        headers['content-type'] = row.raw.contentType;
        return outlink.app.inject({
          method: row.method,
          url: row.url,
          headers,
          payload: row.raw.payload,
        });
      }
      if (row.json !== undefined) headers['content-type'] = 'application/json';
      return outlink.app.inject({
        method: row.method,
        url: row.url,
        headers,
        ...(row.json !== undefined ? { payload: JSON.stringify(row.json) } : {}),
      });
    };
  });
}

/** What is wrong with an answer to `row`, or undefined when it is exactly right. */
function check(row: Row, res: LightMyRequestResponse): string | undefined {
  const got = `${res.statusCode} ${res.body.slice(0, 300)}`;
  if (res.statusCode !== row.status) return `expected ${row.status} ${row.code}, got ${got}`;
  if (!/^application\/json/.test(String(res.headers['content-type']))) return `not JSON: ${got}`;
  const body = res.json() as { error?: Record<string, unknown> };
  if (Object.keys(body).join() !== 'error' || !body.error) return `not {error}: ${got}`;
  const { code, message, remedy, field } = body.error;
  if (code !== row.code) return `expected code ${row.code}, got ${got}`;
  if (typeof message !== 'string' || message.length === 0) return `no message: ${got}`;
  if (remedy !== undefined && typeof remedy !== 'string') return `remedy not text: ${got}`;
  if (row.field !== null && field !== row.field) return `expected field ${row.field}: ${got}`;
  return undefined;
}
