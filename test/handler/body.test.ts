import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripQuotedReply } from '../../src/handler/body.js';

/** Lines joined with LF, so each case reads as the mail it imitates. */
const mail = (...lines: string[]) => lines.join('\n');

describe('stripQuotedReply: English attributions', () => {
  it('Gmail: "On <date> <name> <addr> wrote:" and the quote below', () => {
    const text = mail(
      'Thanks, that fixed it.',
      '',
      'On Fri, Dec 4, 2026 at 10:00 AM Outlink Support <support@outlink.example> wrote:',
      '',
      '> Please restart the printer.',
      '>',
      '> Regards,',
    );
    assert.equal(stripQuotedReply(text), 'Thanks, that fixed it.');
  });

  it('Gmail wraps a long attribution over two lines', () => {
    const text = mail(
      'Still broken.',
      '',
      'On Fri, Dec 4, 2026 at 10:00 AM Outlink Support Desk of Example Corporation <',
      'support@outlink.example> wrote:',
      '',
      '> Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Still broken.');
  });

  it('Apple Mail: "On Dec 4, 2026, at 10:00, <name> <addr> wrote:"', () => {
    const text = mail(
      'Works now.',
      '',
      '> On Dec 4, 2026, at 10:00, Outlink Support <support@outlink.example> wrote:',
      '> ',
      '> Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Works now.');
  });

  it('Thunderbird: "On 12/4/26 10:00 AM, <name> wrote:"', () => {
    const text = mail(
      'Works now.',
      '',
      'On 12/4/26 10:00 AM, Outlink Support wrote:',
      '> Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Works now.');
  });

  it('"<name> wrote:" before a quote, and an interleaved answer stays', () => {
    const text = mail(
      'Taro Yamada wrote:',
      '> Which model is it?',
      'An LX-200.',
      '',
      '> Since when?',
      'Since Monday.',
    );
    assert.equal(stripQuotedReply(text), 'An LX-200.\n\nSince Monday.');
  });

  it('keeps a "wrote:" line that introduces no quote', () => {
    const text = mail('As the manual wrote:', 'turn it off and on again.');
    assert.equal(stripQuotedReply(text), 'As the manual wrote:\nturn it off and on again.');
  });

  it('cuts at a dated attribution whose history is not prefixed with >', () => {
    const text = mail(
      'See below.',
      '',
      'On Fri, Dec 4, 2026 at 10:00 AM Outlink Support <support@outlink.example> wrote:',
      'Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'See below.');
  });

  it('does not take prose starting with "On" for an attribution', () => {
    const text = mail('On Monday the printer jammed again.', 'Tom wrote:', 'nothing quoted here');
    assert.equal(stripQuotedReply(text), text);
  });
});

describe('stripQuotedReply: Japanese attributions', () => {
  it('Gmail ja: 2026年12月4日(金) 10:00 山田太郎 <taro@example.jp>:', () => {
    const text = mail(
      'ご連絡ありがとうございます。',
      '解決しました。',
      '',
      '2026年12月4日(金) 10:00 山田太郎 <taro@example.jp>:',
      '',
      '> プリンタを再起動してください。',
      '>',
    );
    assert.equal(stripQuotedReply(text), 'ご連絡ありがとうございます。\n解決しました。');
  });

  it('Gmail ja wrapped inside the address', () => {
    const text = mail(
      '了解です。',
      '',
      '2026年12月4日(金) 10:00 株式会社サンプル サポートセンター 山田太郎 <',
      'taro@example.jp>:',
      '> 再起動してください。',
    );
    assert.equal(stripQuotedReply(text), '了解です。');
  });

  it('Apple Mail ja: 2026/12/04 10:00、山田太郎 <…> のメール:', () => {
    const text = mail(
      '確認しました。',
      '',
      '> 2026/12/04 10:00、山田太郎 <taro@example.jp> のメール:',
      '> ',
      '> 再起動してください。',
    );
    assert.equal(stripQuotedReply(text), '確認しました。');
  });

  it('Apple Mail ja unquoted attribution line before the quote', () => {
    const text = mail(
      '確認しました。',
      '',
      '2026/12/04 10:00、山田太郎 <taro@example.jp>のメール:',
      '',
      '> 再起動してください。',
    );
    assert.equal(stripQuotedReply(text), '確認しました。');
  });

  it('Thunderbird ja: 2026/12/04 10:00 に 山田太郎 さんは書きました:', () => {
    const text = mail(
      '山田様',
      '',
      '直りました。',
      '',
      '2026/12/04 10:00 に 山田太郎 さんは書きました:',
      '> 再起動してください。',
    );
    assert.equal(stripQuotedReply(text), '山田様\n\n直りました。');
  });

  it('山田太郎 さんは書きました: with no date', () => {
    const text = mail('直りました。', '山田太郎 さんは書きました:', '> 再起動してください。');
    assert.equal(stripQuotedReply(text), '直りました。');
  });

  it('Japanese Thunderbird with an English attribution: "… wrote:"', () => {
    const text = mail('直りました。', '', '山田太郎 wrote:', '> 再起動してください。');
    assert.equal(stripQuotedReply(text), '直りました。');
  });
});

describe('stripQuotedReply: German, French and Russian attributions', () => {
  it('Thunderbird ru: "02.12.2026 10:05, Иван Петров пишет:" and the quote below', () => {
    const text = mail(
      'Спасибо, заработало.',
      '',
      '02.12.2026 10:05, Иван Петров пишет:',
      '> Перезапустите принтер.',
      '>',
      '> С уважением,',
    );
    assert.equal(stripQuotedReply(text), 'Спасибо, заработало.');
  });

  it('Thunderbird ru, interleaved: the answers between the quotes stay', () => {
    const text = mail(
      '04.12.2026 19:32, Иван Петров пишет:',
      '> Какая модель?',
      'LX-200.',
      '',
      '> С какого дня?',
      'С понедельника.',
    );
    assert.equal(stripQuotedReply(text), 'LX-200.\n\nС понедельника.');
  });

  it('cuts at a dated "… пишет:" whose history is not prefixed with >', () => {
    const text = mail('См. ниже.', '', '02.12.2026 10:05, Иван Петров пишет:', 'Перезапустите.');
    assert.equal(stripQuotedReply(text), 'См. ниже.');
  });

  it('"Иван Петров пишет:" with no date before a quote, and kept before none', () => {
    const quoted = mail('Готово.', 'Иван Петров пишет:', '> Перезапустите принтер.');
    assert.equal(stripQuotedReply(quoted), 'Готово.');
    const prose = mail('Как пишет руководство:', 'выключите и включите снова.');
    assert.equal(stripQuotedReply(prose), prose);
  });

  it('Gmail ru: "пт, 4 дек. 2026 г. в 10:00, Иван Петров <ivan@example.ru>:"', () => {
    const text = mail(
      'Готово.',
      '',
      'пт, 4 дек. 2026 г. в 10:00, Иван Петров <ivan@example.ru>:',
      '',
      '> Перезапустите принтер.',
    );
    assert.equal(stripQuotedReply(text), 'Готово.');
  });

  it('German: Gmail "Am … Uhr schrieb …:" and Thunderbird "Am 04.12.26 um 10:00 schrieb …:"', () => {
    for (const attribution of [
      'Am Fr., 4. Dez. 2026 um 10:00 Uhr schrieb Hans Müller <hans@example.de>:',
      'Am 04.12.26 um 10:00 schrieb Hans Müller:',
      'Hans Müller schrieb:',
    ]) {
      const text = mail('Erledigt.', '', attribution, '> Bitte neu starten.');
      assert.equal(stripQuotedReply(text), 'Erledigt.', attribution);
    }
  });

  it('French: Gmail and Thunderbird "Le … a écrit :", and "… a écrit :" without a date', () => {
    for (const attribution of [
      'Le ven. 4 déc. 2026 à 10:00, Jean Dupont <jean@example.fr> a écrit :',
      'Le 04/12/2026 à 10:00, Jean Dupont a écrit :',
      'Jean Dupont a écrit :',
      'Jean Dupont a écrit\u00a0:',
    ]) {
      const text = mail('Merci.', '', attribution, "> Veuillez redémarrer l'imprimante.");
      assert.equal(stripQuotedReply(text), 'Merci.', attribution);
    }
  });
});

describe('stripQuotedReply: Outlook blocks', () => {
  it('-----Original Message-----', () => {
    const text = mail(
      'Done.',
      '',
      '-----Original Message-----',
      'From: Outlink Support <support@outlink.example>',
      'Sent: Friday, December 4, 2026 10:00 AM',
      'Subject: RE: printer',
      '',
      'Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Done.');
  });

  it('-----元のメッセージ----- and -----Ursprüngliche Nachricht-----', () => {
    assert.equal(
      stripQuotedReply(mail('完了です。', '-----元のメッセージ-----', '差出人: 山田', '本文')),
      '完了です。',
    );
    assert.equal(
      stripQuotedReply(
        mail('Erledigt.', '', '-----Ursprüngliche Nachricht-----', 'Von: Support', 'Text'),
      ),
      'Erledigt.',
    );
  });

  it('a ____ rule followed by a From: block', () => {
    const text = mail(
      'Thanks!',
      '',
      '________________________________',
      'From: Outlink Support <support@outlink.example>',
      'Sent: Friday, December 4, 2026 10:00',
      'To: Taro Yamada <taro@example.jp>',
      'Subject: RE: [MAIL-12] printer',
      '',
      'Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Thanks!');
  });

  it('a ____ rule followed by a 差出人: block', () => {
    const text = mail(
      'ありがとうございます。',
      '',
      '________________________________',
      '差出人: Outlink Support <support@outlink.example>',
      '送信日時: 2026年12月4日 10:00',
      '宛先: 山田太郎 <taro@example.jp>',
      '件名: RE: [MAIL-12] プリンタ',
      '',
      '再起動してください。',
    );
    assert.equal(stripQuotedReply(text), 'ありがとうございます。');
  });

  it('a bare From:/Sent:/To:/Subject: block (Outlook on the web), bold markers too', () => {
    const text = mail(
      'Confirmed.',
      '',
      '*From:* Outlink Support <support@outlink.example>',
      '*Sent:* Friday, December 4, 2026 10:00 AM',
      '*To:* Taro Yamada',
      '*Subject:* printer',
      '',
      'Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Confirmed.');
  });

  it('a bare 差出人:/送信日時:/宛先:/件名: block', () => {
    const text = mail(
      '承知しました。',
      '',
      '差出人: サポート <support@outlink.example>',
      '送信日時: 2026年12月4日 金曜日 10:00',
      '宛先: 山田太郎',
      '件名: プリンタ',
      '',
      '再起動してください。',
    );
    assert.equal(stripQuotedReply(text), '承知しました。');
  });

  it('-----Исходное сообщение----- and a Russian header block', () => {
    const text = mail(
      'Готово, спасибо.',
      '',
      'Иван Петров',
      '',
      '-----Исходное сообщение-----',
      'От: Outlink Support <support@outlink.example>',
      'Отправлено: 04.12.2026 10:00',
      'Кому: Иван Петров <ivan@example.ru>',
      'Тема: RE: [MAIL-12] принтер',
      '',
      'Перезапустите принтер.',
    );
    assert.equal(stripQuotedReply(text), 'Готово, спасибо.\n\nИван Петров');
  });

  it('a ____ rule followed by an От: block', () => {
    const text = mail(
      'Спасибо!',
      '',
      '________________________________',
      'От: Outlink Support <support@outlink.example>',
      'Отправлено: 04.12.2026 10:00',
      'Кому: Иван Петров <ivan@example.ru>',
      'Тема: RE: принтер',
      '',
      'Перезапустите принтер.',
    );
    assert.equal(stripQuotedReply(text), 'Спасибо!');
  });

  it('a bare От:/Отправлено:/Кому:/Копия:/Тема: block', () => {
    const text = mail(
      'Принято.',
      '',
      'От: Outlink Support <support@outlink.example>',
      'Отправлено: пятница, 4 декабря 2026 г. 10:00',
      'Кому: Иван Петров <ivan@example.ru>',
      'Копия: Ольга Смирнова <olga@example.ru>',
      'Тема: принтер',
      '',
      'Перезапустите принтер.',
    );
    assert.equal(stripQuotedReply(text), 'Принято.');
  });

  it('a bare Von:/Gesendet:/An:/Betreff: block, and a ____ rule over Von:', () => {
    const block = [
      'Von: Outlink Support <support@outlink.example>',
      'Gesendet: Freitag, 4. Dezember 2026 10:00',
      'An: Hans Müller <hans@example.de>',
      'Betreff: AW: Drucker',
      '',
      'Bitte starten Sie den Drucker neu.',
    ];
    assert.equal(stripQuotedReply(mail('Erledigt.', '', ...block)), 'Erledigt.');
    assert.equal(
      stripQuotedReply(mail('Erledigt.', '', '________________________________', ...block)),
      'Erledigt.',
    );
  });

  it("a bare De :/Envoyé :/À :/Objet : block, and -----Message d'origine-----", () => {
    const block = [
      'De : Outlink Support <support@outlink.example>',
      'Envoyé : vendredi 4 décembre 2026 10:00',
      'À : Jean Dupont <jean@example.fr>',
      'Objet : RE: imprimante',
      '',
      "Veuillez redémarrer l'imprimante.",
    ];
    assert.equal(stripQuotedReply(mail('Merci.', '', ...block)), 'Merci.');
    assert.equal(
      stripQuotedReply(mail('Merci.', '', "-----Message d'origine-----", ...block)),
      'Merci.',
    );
    // Outlook writes a no-break space before the colon
    const nbsp = block.map((line) => line.replace(' :', '\u00a0:'));
    assert.equal(stripQuotedReply(mail('Merci.', '', ...nbsp)), 'Merci.');
  });

  it('keeps From:/To:/Date: lines in a new message: no Subject:, so no quote header', () => {
    const text = mail(
      'Our shipment 183685 has been stuck in customs for a week.',
      'Shipment details:',
      'From: Tokyo warehouse',
      'To: Osaka branch',
      'Date: 4 December',
      '',
      'Please check with the carrier.',
      '',
      'Taro',
    );
    assert.equal(stripQuotedReply(text), text);
    // not even with the sentence right under the block
    const tight = mail(
      'Shipment details:',
      'From: Kobe depot',
      'To: Sendai store',
      'Date: 9 December',
      'It never arrived.',
    );
    assert.equal(stripQuotedReply(tight), tight);
  });

  it('keeps 差出人:/宛先:/日付: lines in a new message too', () => {
    const text = mail(
      '配送の詳細:',
      '差出人: 東京倉庫',
      '宛先: 大阪支店',
      '日付: 12月4日',
      '',
      '届いていません。',
    );
    assert.equal(stripQuotedReply(text), text);
  });

  it('looks for the subject only in the block, not in a later paragraph', () => {
    // (a line above the block: a message that is all quote would come back whole anyway)
    const text = mail(
      'Shipment details:',
      'From: Tokyo warehouse',
      'To: Osaka branch',
      'Date: 4 December',
      '',
      'Subject: the delay, again.',
    );
    assert.equal(stripQuotedReply(text), text);
  });

  it('needs no Subject: under a ____ rule or an Original Message separator', () => {
    const block = [
      'From: Outlink Support <support@outlink.example>',
      'Sent: Friday, December 4, 2026 10:00 AM',
      'To: Taro Yamada <taro@example.jp>',
      '',
      'Please restart the printer.',
    ];
    for (const separator of ['________________________________', '-----Original Message-----']) {
      assert.equal(stripQuotedReply(mail('Done.', '', separator, ...block)), 'Done.', separator);
    }
  });

  it('finds the subject of a bare block below a To: wrapped onto two lines', () => {
    const text = mail(
      'Done.',
      '',
      'From: Outlink Support <support@outlink.example>',
      'Sent: Friday, December 4, 2026 10:00 AM',
      'To: Taro Yamada <taro@example.jp>; Hanako Suzuki <hanako@example.jp>; Jiro Tanaka',
      '<jiro@example.jp>',
      'Subject: RE: printer',
      '',
      'Please restart the printer.',
    );
    assert.equal(stripQuotedReply(text), 'Done.');
  });

  it('needs two fields besides From:, one of them the subject', () => {
    const text = mail(
      'Minutes',
      'From: the accounting team',
      'Subject: the budget',
      '',
      'All agreed.',
    );
    assert.equal(stripQuotedReply(text), text);
  });

  it('keeps a lone "From:" line in prose', () => {
    const text = mail('From: the accounting team, everyone agreed.', 'Next steps below.');
    assert.equal(stripQuotedReply(text), text);
  });
});

describe('stripQuotedReply: forwards stay', () => {
  it('keeps a Gmail forward, its header block and quotes included', () => {
    const text = mail(
      'FYI, see the customer mail below.',
      '',
      '---------- Forwarded message ---------',
      'From: Customer <customer@example.com>',
      'Date: Fri, Dec 4, 2026 at 10:00 AM',
      'Subject: printer',
      'To: <sales@example.com>',
      '',
      'The printer is broken.',
      '> an older quote inside the forward',
    );
    assert.equal(stripQuotedReply(text), text);
  });

  it("keeps a Japanese Thunderbird forward, and strips the forwarder's signature above it", () => {
    const forwarded = [
      '-------- 転送メッセージ --------',
      '件名: \tプリンタ',
      '日付: \tFri, 4 Dec 2026 10:00:00 +0900',
      '差出人: \t山田太郎 <taro@example.jp>',
      '',
      '動きません。',
    ];
    const text = mail('転送します。', '-- ', '鈴木', ...forwarded);
    assert.equal(stripQuotedReply(text), mail('転送します。', ...forwarded));
  });

  it('keeps a Russian forward, its От:/Тема: header block included', () => {
    const forwarded = [
      '-------- Пересылаемое сообщение --------',
      'От: Иван Петров <ivan@example.ru>',
      'Дата: пятница, 4 декабря 2026 г., 10:00',
      'Тема: принтер',
      'Кому: sales@example.com',
      '',
      'Принтер не работает.',
    ];
    const text = mail('Пересылаю письмо клиента.', '', ...forwarded);
    assert.equal(stripQuotedReply(text), text);
  });
});

describe('stripQuotedReply: signatures and footers', () => {
  it('cuts at "-- " and at a bare "--"', () => {
    assert.equal(stripQuotedReply(mail('Hello.', '-- ', 'Taro Yamada', 'Example Corp')), 'Hello.');
    assert.equal(stripQuotedReply(mail('Hello.', '', '--', 'Taro')), 'Hello.');
  });

  it('keeps "---" and "-- text" lines, which are not signature separators', () => {
    const text = mail('Step one', '---', 'Step two', '-- not a separator');
    assert.equal(stripQuotedReply(text), text);
  });

  const footers = [
    'Sent from my iPhone',
    'Sent from my iPad',
    'Sent from Outlook for iOS',
    'Get Outlook for Android',
    'iPhoneから送信',
    'Android から送信',
  ];
  for (const footer of footers) {
    it(`cuts at the mobile footer "${footer}" and the quote under it`, () => {
      const text = mail(
        'OK',
        '',
        footer,
        '',
        '> On Dec 4, 2026, at 10:00, Support wrote:',
        '> quoted',
      );
      assert.equal(stripQuotedReply(text), 'OK');
    });
  }
});

describe('stripQuotedReply: whole messages', () => {
  it('returns a quote-only message as it was, trimmed', () => {
    const text = '\n> only a quote\n> nothing new\n\n';
    assert.equal(stripQuotedReply(text), '> only a quote\n> nothing new');
  });

  it('reads CRLF input and answers with LF', () => {
    const text =
      'First line  \r\nSecond line\r\n\r\nOn Fri, Dec 4, 2026 at 10:00 AM Support <s@example.com> wrote:\r\n> old\r\n';
    assert.equal(stripQuotedReply(text), 'First line\nSecond line');
  });

  it('trims trailing white space and collapses runs of blank lines', () => {
    const text = mail(
      '  Para one.   ',
      '',
      '',
      '',
      '',
      'Para two.\t',
      '',
      '',
      'Para three.',
      '',
      '',
    );
    assert.equal(stripQuotedReply(text), 'Para one.\n\nPara two.\n\nPara three.');
  });

  it('leaves a message without any quote or signature alone', () => {
    const text = 'The printer on floor 3 shows error E-42.\nIt started this morning.';
    assert.equal(stripQuotedReply(text), text);
  });

  it('returns "" for an empty text', () => {
    assert.equal(stripQuotedReply(''), '');
    assert.equal(stripQuotedReply(' \n \n'), '');
  });
});
