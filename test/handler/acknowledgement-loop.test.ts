/**
 * Acknowledgements end to end (issue 10), against real Dovecot validating the real test
 * provider's tokens: a new issue is acknowledged through an outgoing mail server (Dovecot
 * submission, OAuth like the mailbox), and what reached Dovecot's relay sink threads back to
 * the reporter's message. Then the loop the issue names: auto-responders that answer every
 * acknowledgement (RFC 3834, non-standard headers, and dumb ones with no header at all)
 * produce no storm over several rounds; a sender flooding new subjects is throttled; and the
 * handler never answers itself, a bounce or a list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { DEFAULT_THROTTLE } from '../../src/handler/filters.js';
import {
  type MailServerJson,
  type OutlinkMailWorld,
  startOutlinkMailWorld,
} from '../mail/mail-servers-world.js';
import type { RelayedMessage } from '../peers/dovecot.js';
import { ALICE } from '../support/worlds.js';
import { openTestMailbox, type TestMailbox } from './mailbox.js';

const PREFIX = 'MAIL';

/** An acknowledgement as the relay sink received it. */
interface Ack {
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly key: string;
  readonly messageId: string;
  readonly inReplyTo: string;
  readonly references: readonly string[];
  readonly autoSubmitted: string | undefined;
  readonly text: string;
  readonly raw: Buffer;
}

async function parseAck(relayed: RelayedMessage): Promise<Ack> {
  const parsed = await simpleParser(relayed.data);
  const subject = parsed.subject ?? '';
  const references = parsed.references;
  return {
    envelopeFrom: relayed.from,
    envelopeTo: relayed.to,
    from: parsed.from?.value[0]?.address ?? '',
    to: (Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value[0]?.address ?? '',
    subject,
    key: /^\[([A-Z][A-Z0-9]*-\d+)\]/.exec(subject)?.[1] ?? '',
    messageId: parsed.messageId ?? '',
    inReplyTo: parsed.inReplyTo ?? '',
    references: references === undefined ? [] : [references].flat(),
    autoSubmitted: parsed.headers.get('auto-submitted') as string | undefined,
    text: parsed.text ?? '',
    raw: relayed.data,
  };
}

let sequence = 0;

/** A message as a mail client would send it (CRLF, UTF-8 text), with extra header lines. */
function mail(fields: {
  from: string;
  subject: string;
  text?: string;
  messageId?: string;
  headers?: readonly string[];
}): { raw: Buffer; messageId: string } {
  const messageId = fields.messageId ?? `<m${++sequence}.${Date.now()}@client.example.net>`;
  const raw = Buffer.from(
    [
      `From: ${fields.from}`,
      `To: Support <${ALICE}>`,
      `Subject: ${fields.subject}`,
      `Message-ID: ${messageId}`,
      'Date: Sat, 05 Dec 2026 07:00:00 +0000',
      'MIME-Version: 1.0',
      ...(fields.headers ?? []),
      'Content-Type: text/plain; charset=utf-8',
      '',
      fields.text ?? 'Hello, something is broken.',
      '',
    ].join('\r\n'),
  );
  return { raw, messageId };
}

/** How real-world auto-responders answer, from the standard one to the dumbest. */
type Flavour = 'rfc3834' | 'x-autoreply' | 'dumb' | 'fixed-subject';
const FLAVOURS: readonly Flavour[] = ['rfc3834', 'x-autoreply', 'dumb', 'fixed-subject'];

/** The reply the responder of `flavour` at `address` sends to an acknowledgement. */
function autoReply(flavour: Flavour, address: string, ack: Ack): Buffer {
  const out = 'I am out of the office until Monday.';
  switch (flavour) {
    // Sieve vacation (RFC 5230) and most modern servers: RFC 3834 headers, proper threading.
    case 'rfc3834':
      return mail({
        from: address,
        subject: `Auto: ${ack.subject}`,
        text: out,
        headers: [
          'Auto-Submitted: auto-replied',
          `In-Reply-To: ${ack.messageId}`,
          `References: ${[...ack.references, ack.messageId].join(' ')}`,
        ],
      }).raw;
    // Ignores RFC 3834: only the old non-standard markers.
    case 'x-autoreply':
      return mail({
        from: address,
        subject: `Out of Office: ${ack.subject}`,
        text: out,
        headers: ['X-Autoreply: yes', 'Precedence: bulk', `In-Reply-To: ${ack.messageId}`],
      }).raw;
    // No marker at all; answers like a person: "Re:" with the key, and In-Reply-To.
    case 'dumb':
      return mail({
        from: address,
        subject: `Re: ${ack.subject}`,
        text: out,
        headers: [`In-Reply-To: ${ack.messageId}`],
      }).raw;
    // No marker and a subject of its own (no key): only In-Reply-To links it to the ack.
    case 'fixed-subject':
      return mail({
        from: address,
        subject: 'Out of office',
        text: out,
        headers: [`In-Reply-To: ${ack.messageId}`],
      }).raw;
  }
}

describe('mail handler acknowledgements and auto-responder loops (sqlite)', () => {
  let world: OutlinkMailWorld;
  let mailbox: TestMailbox;
  let inbox: MailServerJson;
  let outbox: MailServerJson;
  /** How many relayed messages the tests have read so far. */
  let read = 0;

  const db = () => world.outlink.services.store.db;

  const poll = async (): Promise<Record<string, number>> => {
    const res = await world.api('POST', `/api/v1/mail-servers/${inbox.id}/poll`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as Record<string, number>;
  };

  /** Sends what is owed; returns the acknowledgements the sink received for it, parsed. */
  const sendAcks = async (): Promise<Ack[]> => {
    const sent = await world.outlink.services.mailHandler.sendAcknowledgements();
    const relayed =
      sent > 0 ? await world.dovecot.waitForRelayed(read + sent) : world.dovecot.relayed();
    assert.equal(relayed.length, read + sent, 'the sink holds exactly what was sent');
    const fresh = relayed.slice(read);
    read = relayed.length;
    return Promise.all(fresh.map(parseAck));
  };

  /** Handles and answers whatever an earlier test left (one that failed midway), so tests stand alone. */
  const settle = async () => {
    await poll();
    await sendAcks();
  };

  const issues = () => db().selectFrom('issues').select(['id', 'key', 'summary']).execute();
  /** The issues made since `before` (a list of `issues()`). */
  const issuesSince = async (before: readonly { id: string }[]) => {
    const known = new Set(before.map((i) => i.id));
    return (await issues()).filter((i) => !known.has(i.id));
  };

  const ledgerOf = (sender: string) =>
    db()
      .selectFrom('mail_messages')
      .select(['outcome', 'reason', 'issue_id', 'comment_id', 'subject'])
      .where('sender', '=', sender)
      .orderBy('processed_at')
      .execute();

  before(async () => {
    world = await startOutlinkMailWorld({ dialect: 'sqlite' });
    mailbox = await openTestMailbox(world, world.alice);
    outbox = await world.createServer({
      name: 'Support outbox',
      protocol: 'smtp',
      host: '127.0.0.1',
      port: world.dovecot.ports.submissions!,
      security: 'tls',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
    });
    inbox = await world.createServer({
      name: 'Support',
      protocol: 'imap',
      host: '127.0.0.1',
      port: world.dovecot.ports.imaps!,
      security: 'tls',
      username: ALICE,
      authentication: { method: 'oauth2', connectionId: world.alice },
      handlerEnabled: true,
      issueKeyPrefix: PREFIX,
      acknowledgeWith: outbox.id,
    });
    assert.equal(inbox.acknowledgeWith, outbox.id);
  });
  after(async () => {
    await mailbox?.close();
    await world?.close();
  });

  it('acknowledges a new issue through the SMTP server, threaded to the reporter’s message', async () => {
    const customer = mail({
      from: 'Ann Customer <ann@customer.example.net>',
      subject: 'Printer on fire',
      text: 'The printer on floor 3 is on fire.',
      headers: [
        'Reply-To: Ann at home <ann.home@customer.example.org>',
        'References: <earlier.1@client.example.net>',
      ],
    });
    await mailbox.append([customer.raw]);
    assert.deepEqual(await poll(), {
      fetched: 1,
      created: 1,
      commented: 0,
      skipped: 0,
      failed: 0,
    });
    const [issue] = await issues();
    assert.equal(issue?.key, `${PREFIX}-1`);

    const acks = await sendAcks();
    assert.equal(acks.length, 1);
    const ack = acks[0]!;
    assert.equal(ack.subject, `[${PREFIX}-1] Printer on fire`);
    assert.equal(ack.key, `${PREFIX}-1`);
    assert.equal(ack.inReplyTo, customer.messageId);
    assert.deepEqual(ack.references, ['<earlier.1@client.example.net>', customer.messageId]);
    assert.equal(ack.autoSubmitted, 'auto-replied');
    // The Reply-To, not the From: where the reporter wants answers.
    assert.equal(ack.to, 'ann.home@customer.example.org');
    assert.deepEqual(ack.envelopeTo, ['ann.home@customer.example.org']);
    assert.equal(ack.from, ALICE);
    assert.equal(ack.envelopeFrom, ALICE);
    assert.match(ack.text, new RegExp(`${PREFIX}-1`));
    assert.ok(ack.messageId, 'the acknowledgement has a Message-ID of its own');

    const rows = await db()
      .selectFrom('mail_outbox')
      .select(['status', 'attempts', 'mail_server_id'])
      .where('issue_id', '=', issue!.id)
      .execute();
    assert.deepEqual(rows, [{ status: 'sent', attempts: 1, mail_server_id: outbox.id }]);
    // Sent once: nothing more is owed.
    assert.deepEqual(await sendAcks(), []);
  });

  it('auto-responders answering every acknowledgement make no storm over 5 rounds', async () => {
    const ROUNDS = 5;
    const address = (flavour: Flavour) => `${flavour}@responder.example.com`;
    const flavourOf = new Map(FLAVOURS.map((f) => [address(f), f]));
    const issuesBefore = await issues();
    const sentBefore = read;
    const genuine = new Map<string, { flavour: Flavour; round: number }>();
    const answered: { flavour: Flavour; ack: Ack }[] = [];

    for (let round = 1; round <= ROUNDS; round++) {
      // Each responder's owner writes one real message a round...
      const messages = FLAVOURS.map((flavour) => {
        const m = mail({ from: address(flavour), subject: `Question ${round} (${flavour})` });
        genuine.set(m.messageId, { flavour, round });
        return m.raw;
      });
      await mailbox.append(messages);
      const counts = await poll();
      // ...plus last round's auto-replies: none of which may become an issue.
      assert.equal(counts.created, FLAVOURS.length, `round ${round}: ${JSON.stringify(counts)}`);
      const acks = await sendAcks();
      assert.equal(acks.length, FLAVOURS.length, `round ${round}: one acknowledgement per issue`);
      for (const ack of acks) {
        const asked = genuine.get(ack.inReplyTo);
        assert.ok(asked, `round ${round}: ${ack.subject} answers no genuine message`);
        assert.equal(ack.to, address(asked.flavour));
        assert.equal(ack.autoSubmitted, 'auto-replied');
      }
      // Every responder answers every acknowledgement it received.
      const replies = acks.map((ack) => {
        const flavour = flavourOf.get(ack.to)!;
        answered.push({ flavour, ack });
        return autoReply(flavour, ack.to, ack);
      });
      await mailbox.append(replies);
    }
    // The last round's answers, then nothing more is owed: the loop is over.
    const last = await poll();
    assert.equal(last.created, 0, JSON.stringify(last));
    assert.deepEqual(await sendAcks(), []);

    const made = await issuesSince(issuesBefore);
    assert.equal(made.length, ROUNDS * FLAVOURS.length, 'exactly the genuine issues');
    assert.deepEqual(
      made.map((i) => i.summary).sort(),
      [...genuine.values()].map((g) => `Question ${g.round} (${g.flavour})`).sort(),
    );
    assert.equal(
      read - sentBefore,
      ROUNDS * FLAVOURS.length,
      'acknowledgements sent = genuine issues',
    );

    const keyOf = new Map(made.map((i) => [i.id, i.key]));
    for (const flavour of FLAVOURS) {
      const rows = await ledgerOf(address(flavour));
      const replies = rows.filter((r) => !r.subject?.startsWith('Question '));
      assert.equal(rows.filter((r) => r.outcome === 'issue').length, ROUNDS, flavour);
      assert.equal(replies.length, ROUNDS, `${flavour}: every auto-reply recorded once`);
      const acksAnswered = answered.filter((a) => a.flavour === flavour).map((a) => a.ack.key);
      if (flavour === 'rfc3834' || flavour === 'x-autoreply') {
        const reason = flavour === 'rfc3834' ? 'auto_submitted' : 'auto_reply';
        assert.deepEqual(
          replies.map((r) => [r.outcome, r.reason]),
          Array.from({ length: ROUNDS }, () => ['skipped', reason]),
          flavour,
        );
      } else {
        // Unmarked replies thread back: at most a comment on the acknowledged issue, and a
        // comment is never acknowledged.
        assert.deepEqual(
          replies.map((r) => `${r.outcome} ${keyOf.get(r.issue_id ?? '')}`).sort(),
          acksAnswered.map((key) => `comment ${key}`).sort(),
          flavour,
        );
      }
    }
    const owed = await db()
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(owed.n), read, 'one outbox row per acknowledgement sent');
  });

  it(`throttles a sender flooding new subjects: at most ${DEFAULT_THROTTLE.max} issues and acknowledgements`, async () => {
    await settle();
    const FLOOD = 30;
    const flooder = 'flooder@spam.example.com';
    await mailbox.append(
      Array.from(
        { length: FLOOD },
        (_, i) => mail({ from: flooder, subject: `Ticket number ${i + 1}` }).raw,
      ),
    );
    const counts = await poll();
    assert.deepEqual(counts, {
      fetched: FLOOD,
      created: DEFAULT_THROTTLE.max,
      commented: 0,
      skipped: FLOOD - DEFAULT_THROTTLE.max,
      failed: 0,
    });
    const rows = await ledgerOf(flooder);
    assert.deepEqual(
      rows.map((r) => r.reason ?? r.outcome),
      [
        ...Array.from({ length: DEFAULT_THROTTLE.max }, () => 'issue'),
        ...Array.from({ length: FLOOD - DEFAULT_THROTTLE.max }, () => 'throttled'),
      ],
    );
    const acks = await sendAcks();
    assert.equal(acks.length, DEFAULT_THROTTLE.max);
    assert.ok(acks.every((a) => a.to === flooder));
    assert.deepEqual(await sendAcks(), []);
  });

  it('never answers itself, a bounce or a list', async () => {
    await settle();
    const before = await issues();
    const sentBefore = read;
    // A copy of our own acknowledgement coming back into the mailbox.
    const firstAck = await parseAck(world.dovecot.relayed()[0]!);
    const own = mail({ from: `Support <${ALICE}>`, subject: 'A note from ourselves' });
    const bounce = Buffer.from(
      [
        'From: Mail Delivery System <MAILER-DAEMON@mx.customer.example.net>',
        `To: ${ALICE}`,
        'Subject: Undelivered Mail Returned to Sender',
        'Message-ID: <bounce.1@mx.customer.example.net>',
        'Date: Sat, 05 Dec 2026 07:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'I could not deliver your message to ann.home@customer.example.org.',
        '--b1',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.customer.example.net',
        '',
        'Final-Recipient: rfc822; ann.home@customer.example.org',
        'Action: failed',
        'Status: 5.1.1',
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const listId = mail({
      from: 'Announce <announce@lists.example.org>',
      subject: 'New release of the printer driver',
      headers: ['List-Id: Printer news <news.lists.example.org>'],
    });
    const listPrecedence = mail({
      from: 'Digest <digest@lists.example.org>',
      subject: 'Weekly digest',
      headers: ['Precedence: list'],
    });
    const replyToUs = mail({
      from: 'Bob Colleague <bob@partner.example.net>',
      subject: 'Forwarding a customer request',
      headers: [`Reply-To: ${ALICE}`],
    });
    await mailbox.append([
      firstAck.raw,
      own.raw,
      bounce,
      listId.raw,
      listPrecedence.raw,
      replyToUs.raw,
    ]);
    assert.deepEqual(await poll(), {
      fetched: 6,
      created: 2,
      commented: 0,
      skipped: 4,
      failed: 0,
    });
    const reasons = await db()
      .selectFrom('mail_messages')
      .select(['subject', 'outcome', 'reason'])
      .orderBy('processed_at', 'desc')
      .limit(6)
      .execute();
    assert.deepEqual(
      new Map(reasons.map((r) => [r.subject, r.reason ?? r.outcome])),
      new Map([
        [firstAck.subject, 'own_address'],
        ['A note from ourselves', 'own_address'],
        ['Undelivered Mail Returned to Sender', 'bounce'],
        ['New release of the printer driver', 'issue'],
        ['Weekly digest', 'bulk'],
        ['Forwarding a customer request', 'issue'],
      ]),
    );
    // The list message and the one whose Reply-To is ours are issues, but get no answer.
    const made = await issuesSince(before);
    assert.equal(made.length, 2);
    const owed = await db()
      .selectFrom('mail_outbox')
      .select('id')
      .where(
        'issue_id',
        'in',
        made.map((i) => i.id),
      )
      .execute();
    assert.deepEqual(owed, []);
    assert.deepEqual(await sendAcks(), []);
    assert.equal(read, sentBefore);
  });
});
