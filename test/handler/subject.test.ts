import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findIssueKey,
  ISSUE_KEY_PREFIX_PATTERN,
  normalizeSubject,
  summaryOf,
} from '../../src/handler/subject.js';

describe('normalizeSubject', () => {
  const cases: [string, string][] = [
    ['Re: Printer broken', 'Printer broken'],
    ['RE: Printer broken', 'Printer broken'],
    ['re:Printer broken', 'Printer broken'],
    ['Re[2]: Printer broken', 'Printer broken'],
    ['Re^2: Printer broken', 'Printer broken'],
    ['Re(3): Printer broken', 'Printer broken'],
    ['Fw: Printer broken', 'Printer broken'],
    ['Fwd: Printer broken', 'Printer broken'],
    ['FW: Printer broken', 'Printer broken'],
    ['AW: Drucker kaputt', 'Drucker kaputt'],
    ['WG: Drucker kaputt', 'Drucker kaputt'],
    ['SV: Skrivaren', 'Skrivaren'],
    ['VS: Tulostin', 'Tulostin'],
    ['TR : Imprimante', 'Imprimante'],
    ['RE : Imprimante', 'Imprimante'],
    ['RV: Impresora', 'Impresora'],
    ['Réf: Imprimante', 'Imprimante'],
    ['回复: 打印机', '打印机'],
    ['答复：打印机', '打印机'],
    ['返信: プリンタが動かない', 'プリンタが動かない'],
    ['転送： プリンタが動かない', 'プリンタが動かない'],
    ['Ｒｅ：プリンタが動かない', 'プリンタが動かない'],
    ['ＲＥ： プリンタが動かない', 'プリンタが動かない'],
    ['Re: Fwd: AW: RE[2]: 返信: Re: mixed', 'mixed'],
    ['Re: Re: Re:', ''],
    ['  Re:   lots   of\t\tspace\u3000here  ', 'lots of space here'],
    ['[support] Re: Printer', '[support] Printer'],
    ['Re: [support] Re: Printer', '[support] Printer'],
    ['【重要】Re: 請求書', '【重要】請求書'],
    ['[support]Re: Printer', '[support]Printer'],
    // no colon: the word is part of the subject
    ['Re Printer', 'Re Printer'],
    ['Review: the plan', 'Review: the plan'],
    ['Trouble: login', 'Trouble: login'],
    ['Fwdx: hello', 'Fwdx: hello'],
    ['Printer Re: broken', 'Printer Re: broken'],
    ['', ''],
  ];
  for (const [subject, expected] of cases) {
    it(`${JSON.stringify(subject)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeSubject(subject), expected);
    });
  }
});

describe('findIssueKey', () => {
  const prefixes = ['MAIL', 'HELP2'];
  const cases: [string, string | null][] = [
    ['Re: [MAIL-12] Printer broken', 'MAIL-12'],
    ['Re: (MAIL-7) Printer', 'MAIL-7'],
    ['Printer MAIL-345 again', 'MAIL-345'],
    ['re: [mail-12] lower case', 'MAIL-12'],
    ['Mail-9', 'MAIL-9'],
    ['【MAIL-12】プリンタ', 'MAIL-12'],
    ['MAIL-12について', 'MAIL-12'],
    ['HELP2-3 and MAIL-4', 'HELP2-3'],
    ['see MAIL-4, HELP2-3', 'MAIL-4'],
    ['[MAIL-012] leading zero', null],
    ['[MAIL-0] zero', null],
    ['[MAIL--1]', null],
    ['XMAIL-12 is another project', null],
    ['MAIL-12a', null],
    ['MAIL-12-3', null],
    ['pre-MAIL-12', null],
    ['MAIL_12', null],
    ['[OTHER-12] unknown prefix', null],
    ['no key at all', null],
    ['MAIL-12 first, [MAIL-13] second', 'MAIL-12'],
  ];
  for (const [subject, expected] of cases) {
    it(`${JSON.stringify(subject)} → ${expected}`, () => {
      assert.equal(findIssueKey(subject, prefixes), expected);
    });
  }

  it('finds nothing without prefixes, and ignores invalid ones', () => {
    assert.equal(findIssueKey('[MAIL-12]', []), null);
    assert.equal(findIssueKey('[A.B-12] [MAIL-1]', ['A.B', 'MAIL']), 'MAIL-1');
    assert.equal(findIssueKey('[.*-12]', ['.*']), null);
  });

  it('takes prefixes in any case', () => {
    assert.equal(findIssueKey('[MAIL-5]', ['mail']), 'MAIL-5');
  });
});

describe('summaryOf', () => {
  const prefixes = ['MAIL'];
  const cases: [string, string][] = [
    ['Re: [MAIL-12] Printer broken', 'Printer broken'],
    ['[MAIL-12] Re: Printer broken', 'Printer broken'],
    ['Printer broken (MAIL-12)', 'Printer broken'],
    ['【MAIL-12】 プリンタ', 'プリンタ'],
    ['Re: [support] [MAIL-3] Fwd: Printer', '[support] Printer'],
    ['Printer MAIL-12 again', 'Printer MAIL-12 again'],
    ['[OTHER-1] Printer', '[OTHER-1] Printer'],
    ['Re: [MAIL-12]', ''],
    ['', ''],
  ];
  for (const [subject, expected] of cases) {
    it(`${JSON.stringify(subject)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(summaryOf(subject, prefixes), expected);
    });
  }
});

describe('ISSUE_KEY_PREFIX_PATTERN', () => {
  it('accepts 1–10 characters, A–Z first, then A–Z, 0–9, _', () => {
    for (const ok of ['A', 'MAIL', 'HELP_DESK2', 'ABCDEFGHIJ'])
      assert.ok(ISSUE_KEY_PREFIX_PATTERN.test(ok), ok);
    for (const bad of ['', 'ABCDEFGHIJK', '1MAIL', 'mail', 'MA-IL', '_MAIL', 'MAIL ']) {
      assert.equal(ISSUE_KEY_PREFIX_PATTERN.test(bad), false, bad);
    }
  });
});
