import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_THROTTLE, mayAcknowledge, screen } from '../../src/handler/filters.js';
import { type ParsedMessage, parseMessage } from '../../src/handler/parse.js';
import { message } from './message-bytes.js';

const OWN = ['support@outlink.example', 'Help@Outlink.Example'];
const LIMITS = { maxAttachmentBytes: 1_000_000, maxAttachmentBytesPerMessage: 5_000_000 };

/** A real parse of a small message: the filters see exactly what the handler will give them. */
function parsed(headers: readonly string[], body = 'Hello\r\n'): Promise<ParsedMessage> {
  return parseMessage(
    message(['To: support@outlink.example', 'Subject: Printer', ...headers], body),
    LIMITS,
  );
}

const PERSON = 'From: Taro Yamada <taro@example.jp>';

describe('screen', () => {
  it('passes an ordinary message', async () => {
    assert.equal(screen(await parsed([PERSON]), OWN), null);
  });

  it('no_sender: no From, or a From without an address', async () => {
    assert.equal(screen(await parsed([]), OWN), 'no_sender');
    assert.equal(screen(await parsed(['From: Undisclosed']), OWN), 'no_sender');
    assert.equal(screen(await parsed(['From: <>']), OWN), 'no_sender');
  });

  it('own_address: mail from one of our own addresses, any case', async () => {
    assert.equal(
      screen(await parsed(['From: Outlink <SUPPORT@outlink.example>']), OWN),
      'own_address',
    );
    assert.equal(screen(await parsed(['From: help@outlink.example']), OWN), 'own_address');
    assert.equal(screen(await parsed(['From: support@other.example']), OWN), null);
  });

  it('bounce: multipart/report', async () => {
    const report = await parsed(
      [PERSON, 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"'],
      '--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n',
    );
    assert.equal(screen(report, OWN), 'bounce');
  });

  it('bounce: From MAILER-DAEMON in any case, even without a report', async () => {
    for (const from of [
      'From: MAILER-DAEMON@mail.example.jp (Mail Delivery System)',
      'From: Mail Delivery Subsystem <mailer-daemon@example.com>',
      'From: Mailer-Daemon@example.com',
    ]) {
      assert.equal(screen(await parsed([from]), OWN), 'bounce', from);
    }
  });

  it('bounce: X-Failed-Recipients, and a null Return-Path with a failure subject', async () => {
    assert.equal(
      screen(await parsed([PERSON, 'X-Failed-Recipients: x@example.com']), OWN),
      'bounce',
    );
    const nullPath = await parseMessage(
      message(
        [
          'Return-Path: <>',
          'From: postmaster@example.com',
          'Subject: Undelivered Mail Returned to Sender',
        ],
        'x',
      ),
      LIMITS,
    );
    assert.equal(screen(nullPath, OWN), 'bounce');
    const nullPathOther = await parseMessage(
      message(['Return-Path: <>', 'From: postmaster@example.com', 'Subject: Policy update'], 'x'),
      LIMITS,
    );
    assert.equal(screen(nullPathOther, OWN), null, 'a null Return-Path alone is no bounce');
  });

  it('does not treat postmaster@ alone as a bounce', async () => {
    assert.equal(screen(await parsed(['From: postmaster@example.com']), OWN), null);
  });

  it('bounce comes before auto_submitted (bounces carry Auto-Submitted too)', async () => {
    const bounce = await parsed([
      'From: MAILER-DAEMON@example.com',
      'Auto-Submitted: auto-replied',
    ]);
    assert.equal(screen(bounce, OWN), 'bounce');
  });

  it('auto_submitted: any value but "no", parameters and case ignored', async () => {
    for (const value of [
      'auto-replied',
      'auto-generated',
      'Auto-Notified',
      'auto-replied; owner-email="x@example.com"',
      'yes',
    ]) {
      assert.equal(
        screen(await parsed([PERSON, `Auto-Submitted: ${value}`]), OWN),
        'auto_submitted',
        value,
      );
    }
  });

  it('Auto-Submitted: no passes, in any case and with parameters', async () => {
    for (const value of ['no', 'No', ' NO ', 'no; comment=1']) {
      assert.equal(screen(await parsed([PERSON, `Auto-Submitted: ${value}`]), OWN), null, value);
    }
  });

  it('auto_reply: X-Autoreply or X-Autorespond with any value, any header case', async () => {
    for (const header of [
      'X-Autoreply: yes',
      'x-autoreply: 1',
      'X-AutoReply: no',
      'X-Autorespond: Vacation',
      'X-AUTORESPOND: x',
    ]) {
      assert.equal(screen(await parsed([PERSON, header]), OWN), 'auto_reply', header);
    }
  });

  it('X-Auto-Response-Suppress alone creates an issue (Outlook sets it on mail people write)', async () => {
    assert.equal(screen(await parsed([PERSON, 'X-Auto-Response-Suppress: All']), OWN), null);
  });

  it('bulk: Precedence bulk, junk or list in any case', async () => {
    for (const value of ['bulk', 'Junk', 'LIST', ' list ']) {
      assert.equal(screen(await parsed([PERSON, `Precedence: ${value}`]), OWN), 'bulk', value);
    }
    assert.equal(screen(await parsed([PERSON, 'Precedence: first-class']), OWN), null);
  });

  it('checks in the documented order: auto_submitted before auto_reply before bulk', async () => {
    const all = await parsed([
      PERSON,
      'Precedence: bulk',
      'X-Autoreply: yes',
      'Auto-Submitted: auto-replied',
    ]);
    assert.equal(screen(all, OWN), 'auto_submitted');
    const two = await parsed([PERSON, 'Precedence: bulk', 'X-Autorespond: yes']);
    assert.equal(screen(two, OWN), 'auto_reply');
  });
});

describe('mayAcknowledge', () => {
  it('allows an ordinary message', async () => {
    assert.equal(mayAcknowledge(await parsed([PERSON]), OWN), true);
  });

  it('never for a message screen() skips', async () => {
    assert.equal(
      mayAcknowledge(await parsed([PERSON, 'Auto-Submitted: auto-generated']), OWN),
      false,
    );
    assert.equal(mayAcknowledge(await parsed([PERSON, 'Precedence: bulk']), OWN), false);
    assert.equal(mayAcknowledge(await parsed(['From: support@outlink.example']), OWN), false);
  });

  it('never for mailing-list mail', async () => {
    for (const header of [
      'List-Id: Users <users.lists.example.com>',
      'List-Unsubscribe: <mailto:leave@lists.example.com>',
      'List-Post: <mailto:users@lists.example.com>',
    ]) {
      assert.equal(mayAcknowledge(await parsed([PERSON, header]), OWN), false, header);
    }
  });

  it('never to robots: noreply@, no-reply@, donotreply@, mailer-daemon@', async () => {
    for (const from of [
      'noreply@example.com',
      'No-Reply@example.com',
      'no_reply+abc@example.com',
      'donotreply@example.com',
      'do-not-reply@example.com',
      'noreply-dmarc@example.com',
      'bounce@example.com',
    ]) {
      assert.equal(mayAcknowledge(await parsed([`From: ${from}`]), OWN), false, from);
    }
    assert.equal(mayAcknowledge(await parsed(['From: norepl@example.com']), OWN), true);
    assert.equal(mayAcknowledge(await parsed(['From: replyno@example.com']), OWN), true);
  });

  it('checks the Reply-To as well as the From', async () => {
    const form = await parsed([
      'From: noreply@forms.example.com',
      'Reply-To: Customer <customer@example.com>',
    ]);
    assert.equal(mayAcknowledge(form, OWN), false, 'a robot sender, whatever the Reply-To');
    const robotReplyTo = await parsed([PERSON, 'Reply-To: no-reply@example.com']);
    assert.equal(mayAcknowledge(robotReplyTo, OWN), false);
    const ownReplyTo = await parsed([PERSON, 'Reply-To: support@outlink.example']);
    assert.equal(mayAcknowledge(ownReplyTo, OWN), false, 'never back to ourselves');
    const personReplyTo = await parsed([PERSON, 'Reply-To: Team <team@example.jp>']);
    assert.equal(mayAcknowledge(personReplyTo, OWN), true);
  });

  it('not when the message asks for no automatic answer, nor with a null Return-Path', async () => {
    assert.equal(
      mayAcknowledge(await parsed([PERSON, 'X-Auto-Response-Suppress: OOF, AutoReply']), OWN),
      false,
    );
    assert.equal(
      mayAcknowledge(await parsed([PERSON, 'X-Auto-Response-Suppress: None']), OWN),
      true,
    );
    assert.equal(mayAcknowledge(await parsed([PERSON, 'Return-Path: <>']), OWN), false);
  });
});

describe('DEFAULT_THROTTLE', () => {
  it('is 20 messages in 10 minutes, and frozen', () => {
    assert.deepEqual(DEFAULT_THROTTLE, { max: 20, windowMinutes: 10 });
    assert.ok(Object.isFrozen(DEFAULT_THROTTLE));
  });
});
