import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLocale, localeFromEnv, pickLocale } from '../../src/i18n/locale.js';

describe('pickLocale (Accept-Language, RFC 9110 §12.5.4)', () => {
  const cases: [string | undefined, 'en' | 'ja'][] = [
    [undefined, 'en'],
    ['', 'en'],
    ['ja', 'ja'],
    ['JA', 'ja'],
    ['ja-JP', 'ja'],
    ['ja-JP,en;q=0.8', 'ja'],
    ['en-US,ja;q=0.9', 'en'],
    ['fr-FR, ja;q=0.5, en;q=0.4', 'ja'],
    ['en;q=0.5, ja;q=0.9', 'ja'],
    ['ja;q=0, en', 'en'],
    ['de, fr', 'en'],
    ['*', 'en'],
    ['ja;q=abc', 'en'],
    ['jav', 'en'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected}`, () => assert.equal(pickLocale(header), expected));
  }
});

describe('chooseLocale: ?lang=, then the cookie, then Accept-Language, then English', () => {
  it('takes ?lang= first and asks to remember it', () => {
    assert.deepEqual(chooseLocale({ query: 'ja', cookie: 'en', acceptLanguage: 'en' }), {
      locale: 'ja',
      remember: true,
    });
  });

  it('takes the cookie over Accept-Language, without asking to remember it again', () => {
    assert.deepEqual(chooseLocale({ cookie: 'ja', acceptLanguage: 'en' }), {
      locale: 'ja',
      remember: false,
    });
  });

  it('ignores an unsupported ?lang= or cookie', () => {
    assert.deepEqual(chooseLocale({ query: 'fr', cookie: 'de', acceptLanguage: 'ja' }), {
      locale: 'ja',
      remember: false,
    });
    assert.deepEqual(chooseLocale({ query: ['ja'], cookie: 42 }), {
      locale: 'en',
      remember: false,
    });
  });

  it('falls back to English', () => {
    assert.deepEqual(chooseLocale({}), { locale: 'en', remember: false });
  });
});

describe('localeFromEnv: the CLI reads its POSIX locale as Accept-Language', () => {
  const cases: [Record<string, string>, 'en' | 'ja'][] = [
    [{}, 'en'],
    [{ LANG: 'ja_JP.UTF-8' }, 'ja'],
    [{ LANG: 'ja_JP.eucJP@euro' }, 'ja'],
    [{ LANG: 'ja' }, 'ja'],
    [{ LANG: 'en_US.UTF-8' }, 'en'],
    [{ LANG: 'C' }, 'en'],
    [{ LANG: 'POSIX' }, 'en'],
    [{ LANG: 'ja_JP.UTF-8', LC_ALL: 'C' }, 'en'],
    [{ LANG: 'C', LC_MESSAGES: 'ja_JP.UTF-8' }, 'ja'],
    [{ LANG: 'ja_JP.UTF-8', LC_MESSAGES: 'en_GB.UTF-8' }, 'en'],
    [{ LANG: 'ja_JP.UTF-8', LC_ALL: '' }, 'ja'],
  ];
  for (const [env, expected] of cases) {
    it(`${JSON.stringify(env)} → ${expected}`, () => assert.equal(localeFromEnv(env), expected));
  }
});
