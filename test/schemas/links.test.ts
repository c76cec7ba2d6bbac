import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileValidator } from '../../src/domain/validation.js';
import { CreateLinkBody, UpdateLinkBody } from '../../src/schemas/links.js';

describe('link body schemas', () => {
  const create = compileValidator(CreateLinkBody);
  const update = compileValidator(UpdateLinkBody);
  const valid = { name: 'Gmail', provider: 'google', clientId: 'id', clientSecret: 's' };

  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      const e = error as { code: string; details?: { field?: string } };
      return [e.code, e.details?.field];
    }
    return ['accepted'];
  };

  it('accepts a minimal Google body and any subset on update', () => {
    assert.deepEqual(create(valid), valid);
    assert.deepEqual(update({}), {});
    assert.deepEqual(update({ description: 'x' }), { description: 'x' });
  });

  it('names the catalog code and field of each problem', () => {
    assert.deepEqual(
      codeOf(() => create({ provider: 'google', clientId: 'id', clientSecret: 's' })),
      ['field_required', 'name'],
    );
    assert.deepEqual(
      codeOf(() => create({ ...valid, provider: 'yahoo' })),
      ['unknown_provider', 'provider'],
    );
    assert.deepEqual(
      codeOf(() => create({ ...valid, colour: 'red' })),
      ['unknown_field', 'colour'],
    );
    assert.deepEqual(
      codeOf(() => create({ ...valid, scopes: ['a', 7] })),
      ['field_type', 'scopes[1]'],
    );
    assert.deepEqual(
      codeOf(() => create({ ...valid, name: 'x'.repeat(101) })),
      ['field_too_long', 'name'],
    );
    assert.deepEqual(
      codeOf(() => create({ ...valid, clientId: '' })),
      ['field_empty', 'clientId'],
    );
    assert.deepEqual(
      codeOf(() => update({ authorizationEndpoint: '' })),
      ['field_empty', 'authorizationEndpoint'],
    );
    assert.deepEqual(
      codeOf(() => update({ authorizationEndpoint: 'not a url' })),
      ['field_invalid', 'authorizationEndpoint'],
    );
    assert.deepEqual(
      codeOf(() => update({ clientSecretExpiresAt: '2026-02-30' })),
      ['field_invalid', 'clientSecretExpiresAt'],
    );
    assert.deepEqual(
      codeOf(() => update({ clientSecretExpiresAt: null })),
      ['accepted'],
    );
  });
});
