/**
 * Recipes for mail that must create nothing and is recorded as skipped: auto-replies, bulk
 * and list mail, bounces and other reports, and mail from the handler's own address.
 */
import type { Buffer } from 'node:buffer';
import { boundaryFor, envelope } from './corpus-envelope.js';
import { rfc5322Date } from './corpus-ids.js';
import type { Ctx, IssueState, Produced, Recipe } from './corpus-model.js';
import { type Lang, type Person, SENDER_CAP } from './corpus-people.js';
import { buildMessage, type HeaderField, multipart, rawPart, textPart } from './mime.js';

/** A sender that is not a person: a robot, a list, a mail system. */
export function robot(name: string, address: string, lang: Lang = 'en'): Person {
  return {
    name,
    address: address.toLowerCase(),
    lang,
    client: 'gmail',
    signature: [],
    signatureMarker: '',
    utcOffset: 0,
    cp932Only: false,
  };
}

/** An issue of the corpus to refer to, if any. */
function someIssue(ctx: Ctx): IssueState | null {
  const open = ctx.issues.filter((issue) => !issue.flood && issue.root.messageId !== null);
  return open.length === 0 ? null : ctx.random.pick(open.slice(-50));
}

const OUT_OF_OFFICE: Record<'en' | 'ja' | 'de', readonly [subject: string, body: string]> = {
  en: ['Automatic reply: ', 'I am out of the office until Monday with limited access to email.'],
  ja: ['自動応答: ', '誠に勝手ながら、12月7日まで不在にしております。'],
  de: ['Abwesenheitsnotiz: ', 'Ich bin bis Montag nicht im Büro.'],
};

/** Auto-replies marked by a header: Auto-Submitted (RFC 3834), X-Autoreply, X-Autorespond. */
export function autoReply(header: 'auto-submitted' | 'x-autoreply' | 'x-autorespond'): Recipe {
  return (ctx) => {
    const { random } = ctx;
    const lang = random.pick(['en', 'ja', 'de'] as const);
    const person = ctx.people.pick(lang);
    const issue = someIssue(ctx);
    const [prefix, body] = OUT_OF_OFFICE[lang];
    const field: HeaderField =
      header === 'auto-submitted'
        ? {
            name: 'Auto-Submitted',
            value: random.pick([
              'auto-replied',
              'auto-replied',
              'auto-generated',
              'auto-notified',
              'Auto-Replied',
              'auto-replied; owner-email="postmaster@example.com"',
            ]),
          }
        : header === 'x-autoreply'
          ? { name: 'X-Autoreply', value: random.pick(['yes', 'YES', 'true']) }
          : { name: 'X-Autorespond', value: random.pick(['Out of office', 'yes', 'vacation']) };
    // answering the acknowledgement: the key in the subject and the issue's message in the
    // references; the filter must win over threading
    const about = issue
      ? `[${ctx.options.prefix}-${issue.number}] ${issue.summary}`
      : 'Your message';
    const extra: HeaderField[] = [field];
    if (header === 'auto-submitted' && random.chance(0.5))
      extra.push({ name: 'X-Auto-Response-Suppress', value: 'All' });
    const raw = buildMessage(
      envelope(ctx, {
        person,
        subject: `${prefix}${about}`,
        messageId: ctx.messageId(person),
        bodyCharset: 'UTF-8',
        ...(issue && random.chance(0.6)
          ? { inReplyTo: issue.root.messageId!, references: issue.root.chain }
          : {}),
        extra,
      }),
      textPart({ text: `${body}\n`, charset: 'UTF-8', transferEncoding: 'base64' }),
    );
    return skipped(
      raw,
      person.address,
      `skipped ${header} ${String(field.value).toLowerCase().split(/[;=]/)[0]}`,
      header === 'auto-submitted' ? 'auto_submitted' : 'auto_reply',
    );
  };
}

function skipped(
  raw: Buffer,
  sender: string,
  label: string,
  reason: 'auto_submitted' | 'auto_reply' | 'bulk' | 'bounce' | 'own_address',
): Produced {
  const id = /^Message-I[Dd]: <([^>]+)>/m.exec(raw.toString('latin1'))?.[1] ?? null;
  return { raw, messageId: id, sender, label, expect: { kind: 'skipped', reason } };
}

const LISTS = [
  ['Example Shop News', 'news', 'shop.example.com', 'bulk'],
  ['Weekly Digest', 'digest', 'lists.example.org', 'list'],
  ['Support Forum', 'forum-notify', 'community.example.net', 'list'],
  ['キャンペーン事務局', 'campaign', 'shop.example.jp', 'bulk'],
  ['Promotions', 'promo', 'deals.example.com', 'junk'],
  ['Status Page', 'status', 'status.example.com', 'bulk'],
] as const;

/** Newsletters, list traffic and junk: `Precedence: bulk|junk|list`. */
export const bulkMail: Recipe = (ctx) => {
  const { random } = ctx;
  const [name, local, domain, precedence] = random.pick(LISTS);
  const address = available(ctx, (n) => `${local}${n === 1 ? '' : n}@${domain}`);
  const sender = robot(name, address, /[^\p{ASCII}]/u.test(name) ? 'ja' : 'en');
  const value = random.pick([
    precedence,
    precedence,
    precedence.toUpperCase(),
    `${precedence.charAt(0).toUpperCase()}${precedence.slice(1)}`,
  ]);
  const extra: HeaderField[] = [{ name: 'Precedence', value }];
  if (precedence === 'list') extra.push({ name: 'List-Id', value: `<${local}.${domain}>` });
  extra.push({ name: 'List-Unsubscribe', value: `<mailto:unsubscribe@${domain}>` });
  const subject =
    sender.lang === 'ja'
      ? `【${ctx.index}】年末セールのお知らせ`
      : `Your weekly update #${ctx.index}`;
  const raw = buildMessage(
    envelope(ctx, {
      person: sender,
      subject,
      messageId: `${ctx.marker()}.${ctx.index}@${domain}`,
      bodyCharset: 'UTF-8',
      extra,
    }),
    multipart(
      'alternative',
      [
        textPart({
          text: 'View this message in your browser.\n',
          charset: 'UTF-8',
          transferEncoding: '7bit',
        }),
        textPart({
          text: '<html><body><h1>Update</h1><img src="https://example.com/pixel.gif"></body></html>\n',
          subtype: 'html',
          charset: 'UTF-8',
          transferEncoding: '7bit',
        }),
      ],
      { boundary: boundaryFor(random, 'gmail') },
    ),
  );
  return skipped(raw, sender.address, `skipped precedence ${value.toLowerCase()}`, 'bulk');
};

/** The first address of the numbered series that has not sent its 15 messages yet. */
function available(ctx: Ctx, nth: (n: number) => string): string {
  for (let n = 1; ; n++) {
    const address = nth(n).toLowerCase();
    if (ctx.people.uses(address) < SENDER_CAP) return nth(n);
  }
}

const MAIL_SYSTEMS = [
  'mx.example.net',
  'smtp.example.co.jp',
  'mail.example.org',
  'relay.example.jp',
];

/** A mail system's sender (its local part as written) that has not yet sent 15 messages. */
function daemon(ctx: Ctx, local: string, name: string): { person: Person; shown: string } {
  const host = ctx.random.pick(MAIL_SYSTEMS);
  const shown = available(ctx, (n) => `${local}@${n === 1 ? host : `mx${n}.${host}`}`);
  return { person: robot(name, shown), shown };
}

/** A delivery status notification (RFC 3464) from MAILER-DAEMON, or an Exchange NDR from postmaster. */
export const deliveryReport: Recipe = (ctx) => {
  const { random } = ctx;
  const exchange = random.chance(0.3);
  const { person: sender, shown } = exchange
    ? daemon(ctx, 'postmaster', 'Microsoft Outlook')
    : daemon(
        ctx,
        random.pick(['MAILER-DAEMON', 'MAILER-DAEMON', 'mailer-daemon']),
        'Mail Delivery System',
      );
  const rcpt = `${random.pick(['nobody', 'former.employee', 'typo'])}@${random.pick(['example.com', 'example.co.jp'])}`;
  const host = sender.address.split('@')[1]!;
  const ackId = `${ctx.marker()}.ack@${ctx.options.mailbox.split('@')[1]}`;
  const subject = exchange
    ? `${random.pick(['Undeliverable: [', '配信不能: ['])}${ctx.options.prefix}-1] Your request`
    : random.pick([
        'Undelivered Mail Returned to Sender',
        'Delivery Status Notification (Failure)',
        'Mail delivery failed: returning message to sender',
      ]);
  const report = multipart(
    'report',
    [
      textPart({
        text: `This is the mail system at host ${host}.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<${rcpt}>: host ${host} said: 550 5.1.1 User unknown\n`,
        charset: 'us-ascii',
        transferEncoding: '7bit',
      }),
      rawPart(
        [{ name: 'Content-Type', value: 'message/delivery-status' }],
        `Reporting-MTA: dns; ${host}\nArrival-Date: ${rfc5322Date(ctx.date, 0)}\n\nFinal-Recipient: rfc822; ${rcpt}\nOriginal-Recipient: rfc822;${rcpt}\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; ${host}\nDiagnostic-Code: smtp; 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown\n`,
      ),
      rawPart(
        [{ name: 'Content-Type', value: random.pick(['text/rfc822-headers', 'message/rfc822']) }],
        `From: ${ctx.mailboxName} <${ctx.options.mailbox}>\nTo: ${rcpt}\nSubject: [${ctx.options.prefix}-1] Your request\nMessage-ID: <${ackId}>\nAuto-Submitted: auto-replied\nDate: ${rfc5322Date(ctx.date, 0)}\n\nYour request has been registered.\n`,
      ),
    ],
    {
      boundary: `${random.string('0123456789ABCDEF', 10)}.${ctx.index}/${host}`,
      params: 'report-type=delivery-status',
    },
  );
  const raw = buildMessage(
    envelope(ctx, {
      person: sender,
      from: exchange ? `${sender.name} <${shown}>` : `${shown} (Mail Delivery System)`,
      returnPath: '<>',
      subject,
      messageId: `${ctx.marker()}.${ctx.index}@${host}`,
      bodyCharset: 'UTF-8',
    }),
    report,
  );
  return skipped(
    raw,
    sender.address,
    `skipped bounce ${exchange ? 'postmaster-ndr' : 'mailer-daemon-dsn'}`,
    'bounce',
  );
};

/** A read receipt (RFC 8098): multipart/report; report-type=disposition-notification. */
export const readReceipt: Recipe = (ctx) => {
  const { random } = ctx;
  const issue = someIssue(ctx);
  const person = issue?.root.author ?? ctx.people.pick('en');
  if (ctx.people.uses(person.address) >= SENDER_CAP - 3) return null;
  const report = multipart(
    'report',
    [
      textPart({
        text: `Your message was displayed on ${rfc5322Date(ctx.date, person.utcOffset)}.\n`,
        charset: 'UTF-8',
        transferEncoding: '7bit',
      }),
      rawPart(
        [{ name: 'Content-Type', value: 'message/disposition-notification' }],
        `Reporting-UA: ${person.address.split('@')[1]}; Mozilla Thunderbird\nFinal-Recipient: rfc822;${person.address}\nOriginal-Message-ID: <${issue?.root.messageId ?? 'none@example.test'}>\nDisposition: manual-action/MDN-sent-manually; displayed\n`,
      ),
    ],
    {
      boundary: boundaryFor(random, 'thunderbird'),
      params: 'report-type=disposition-notification',
    },
  );
  const subject = person.lang === 'ja' ? '開封済み: お問い合わせ' : 'Read: your message';
  const raw = buildMessage(
    envelope(ctx, { person, subject, messageId: ctx.messageId(person), bodyCharset: 'UTF-8' }),
    report,
  );
  return skipped(raw, person.address, 'skipped bounce read-receipt', 'bounce');
};

/**
 * A bounce as plain text, no multipart/report: qmail's from MAILER-DAEMON, or sendmail's
 * "Returned mail" from postmaster with the null reverse-path every bounce has.
 */
export const plainBounce: Recipe = (ctx) => {
  const qmail = ctx.random.chance(0.5);
  const { person: sender, shown } = daemon(ctx, qmail ? 'MAILER-DAEMON' : 'postmaster', '');
  const host = sender.address.split('@')[1]!;
  const text = qmail
    ? `Hi. This is the qmail-send program at ${host}.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n<nobody@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n`
    : `The original message was received at ${rfc5322Date(ctx.date, 540)}\nfrom localhost [127.0.0.1]\n\n   ----- The following addresses had permanent fatal errors -----\n<nobody@example.co.jp>\n    (reason: 550 5.1.1 User unknown)\n`;
  const raw = buildMessage(
    envelope(ctx, {
      person: sender,
      from: qmail ? shown : `Mail Delivery Subsystem <${shown}>`,
      returnPath: '<>',
      subject: qmail ? 'failure notice' : 'Returned mail: see transcript for details',
      messageId: `${ctx.marker()}.${qmail ? 'qmail' : 'sendmail'}@${host}`,
      bodyCharset: 'us-ascii',
    }),
    textPart({ text, charset: 'us-ascii', transferEncoding: '7bit' }),
  );
  const label = qmail ? 'skipped bounce mailer-daemon-plain' : 'skipped bounce postmaster-plain';
  return skipped(raw, sender.address, label, 'bounce');
};

/** Mail from the handler's own address: a copy of its own reply, or a test it sent itself. */
export const ownAddress: Recipe = (ctx) => {
  const { random } = ctx;
  if (ctx.people.uses(ctx.options.mailbox.toLowerCase()) >= SENDER_CAP) return null;
  const issue = someIssue(ctx);
  const mailbox = ctx.options.mailbox;
  const shown = random.pick([
    mailbox,
    mailbox.toUpperCase(),
    `${mailbox.charAt(0).toUpperCase()}${mailbox.slice(1)}`,
  ]);
  const me = robot(ctx.mailboxName, mailbox);
  const subject = issue ? `Re: [${ctx.options.prefix}-${issue.number}] ${issue.summary}` : 'test';
  const raw = buildMessage(
    envelope(ctx, {
      person: me,
      from: `${ctx.mailboxName} <${shown}>`,
      subject,
      messageId: `${ctx.marker()}.${ctx.index}@${mailbox.split('@')[1]}`,
      bodyCharset: 'UTF-8',
      ...(issue ? { inReplyTo: issue.root.messageId!, references: issue.root.chain } : {}),
    }),
    textPart({
      text: 'We are looking into it and will get back to you shortly.\n',
      charset: 'UTF-8',
      transferEncoding: '7bit',
    }),
  );
  return skipped(
    raw,
    mailbox.toLowerCase(),
    `skipped own-address ${shown === mailbox ? 'same-case' : 'other-case'}`,
    'own_address',
  );
};
