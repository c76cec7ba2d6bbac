import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../src/domain/errors.js';
import en from '../../src/i18n/en.json' with { type: 'json' };
import { hasMessage, translate } from '../../src/i18n/i18n.js';
import ja from '../../src/i18n/ja.json' with { type: 'json' };

/** Every leaf key of a catalog, dot-separated. */
function leaves(node: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof node === 'string') {
    out.set(prefix, node);
    return out;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    for (const [k, v] of leaves(value, prefix ? `${prefix}.${key}` : key)) out.set(k, v);
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('translate', () => {
  it('fills placeholders in the chosen language', () => {
    assert.equal(
      translate('en', 'errors.link_name_taken.message', { name: 'Gmail' }),
      'An application link named "Gmail" already exists.',
    );
    assert.equal(
      translate('ja', 'errors.link_name_taken.message', { name: 'Gmail' }),
      ja.errors.link_name_taken.message.replace('{name}', 'Gmail'),
    );
  });

  it('leaves a placeholder without a value visible rather than inventing one', () => {
    assert.equal(
      translate('en', 'errors.field_required.message'),
      'The field "{field}" is required.',
    );
  });

  it('answers the key itself for an unknown key, never an empty text', () => {
    assert.equal(translate('ja', 'errors.no_such_code.message'), 'errors.no_such_code.message');
    assert.equal(hasMessage('en', 'errors.no_such_code.message'), false);
    assert.equal(hasMessage('ja', 'errors.internal.message'), true);
  });
});

describe('the message catalogs', () => {
  const enLeaves = leaves(en);
  const jaLeaves = leaves(ja);

  it('have exactly the same keys in English and Japanese', () => {
    const onlyEn = [...enLeaves.keys()].filter((k) => !jaLeaves.has(k));
    const onlyJa = [...jaLeaves.keys()].filter((k) => !enLeaves.has(k));
    assert.deepEqual({ onlyEn, onlyJa }, { onlyEn: [], onlyJa: [] });
  });

  it('use the same placeholders in both languages', () => {
    const differing = [...enLeaves]
      .filter(
        ([key, text]) => placeholders(text).join() !== placeholders(jaLeaves.get(key) ?? '').join(),
      )
      .map(([key]) => key);
    assert.deepEqual(differing, []);
  });

  it('have no empty text', () => {
    const empty = [...enLeaves, ...jaLeaves].filter(([, text]) => text.trim() === '');
    assert.deepEqual(empty, []);
  });

  it('give every error code a message and a remedy in both languages, and nothing more', () => {
    for (const code of Object.keys(ErrorCodes)) {
      for (const locale of ['en', 'ja'] as const) {
        for (const part of ['message', 'remedy']) {
          assert.ok(
            hasMessage(locale, `errors.${code}.${part}`),
            `${locale}: errors.${code}.${part}`,
          );
        }
      }
    }
    assert.deepEqual(Object.keys(en.errors).sort(), Object.keys(ErrorCodes).sort());
  });

  it('are actually translated: Japanese error messages differ from the English ones', () => {
    const same = Object.keys(ErrorCodes).filter(
      (code) =>
        translate('en', `errors.${code}.message`) === translate('ja', `errors.${code}.message`),
    );
    assert.deepEqual(same, []);
  });

  it('have every warning the link rules give, in both languages', () => {
    for (const code of [
      'scope_normalized',
      'scope_cloud_adjusted',
      'redirect_host_ip_literal',
      'client_secret_expired',
      'offline_access_added',
    ]) {
      assert.ok(hasMessage('en', `warnings.${code}`), code);
      assert.ok(hasMessage('ja', `warnings.${code}`), code);
    }
  });

  it('map every catalog status to a 4xx or 5xx', () => {
    for (const [code, status] of Object.entries(ErrorCodes)) {
      assert.ok(status >= 400 && status < 600, `${code}: ${status}`);
    }
  });
});
