/**
 * What the corpus's people write: subjects and body lines in English, Japanese, German,
 * French and Russian. Every message carries a six-digit marker in one sentence, so a test can
 * tell its new text (which must reach the issue or comment) from text quoted from another
 * message (which must not).
 */

import type { Lang, Person } from './corpus-people.js';
import type { Random } from './corpus-random.js';
import { encodeText } from './mime.js';

/** A topic: the subject of a new issue and the sentence of its body that names the marker. */
type Topic = readonly [subject: string, sentence: string];

const TOPICS: Record<Lang, readonly Topic[]> = {
  en: [
    ['Order {m} arrived damaged', 'Order {m} arrived damaged and the box was open.'],
    ['Wrong billing address on invoice {m}', 'Invoice {m} lists the wrong billing address.'],
    [
      'Export job {m} fails with a timeout',
      'Since this morning export job {m} fails with a timeout.',
    ],
    [
      'Cannot log in to account {m}',
      'I cannot log in to account {m}, the reset mail never arrives.',
    ],
    ['Printer error E-04 in room {m}', 'The printer in room {m} shows error E-04 again.'],
    ['Shipment {m} stuck in customs', 'Our shipment {m} has been stuck in customs for a week.'],
    ['Question about contract {m}', 'I have a question about the renewal of contract {m}.'],
    ['Refund request for order {m}', 'Please refund order {m}, we returned the goods on Monday.'],
  ],
  ja: [
    ['注文番号{m}の商品が届きません', '注文番号{m}の商品がまだ届いておりません。'],
    ['請求書{m}の金額について', '請求書{m}の金額に誤りがあるようです。'],
    [
      'バッチ処理{m}がタイムアウトします',
      '本日朝からバッチ処理{m}がタイムアウトで失敗しています。',
    ],
    ['アカウント{m}にログインできません', 'アカウント{m}にログインできなくなりました。'],
    ['会議室{m}のプリンターエラー', '会議室{m}のプリンターでエラーが再発しています。'],
    ['出荷{m}の配送状況の確認', '出荷{m}の配送状況を確認していただけますでしょうか。'],
    ['契約{m}に関するお問い合わせ', '契約{m}の更新についてお伺いしたいことがございます。'],
    ['注文{m}の返金について', '注文{m}の返金をお願いできますでしょうか。'],
  ],
  de: [
    [
      'Bestellung {m} beschädigt angekommen',
      'Die Bestellung {m} ist beschädigt bei uns angekommen.',
    ],
    [
      'Falsche Rechnungsadresse auf Rechnung {m}',
      'Auf der Rechnung {m} steht eine falsche Adresse.',
    ],
    [
      'Export {m} schlägt fehl',
      'Seit heute früh schlägt der Export {m} mit Zeitüberschreitung fehl.',
    ],
    ['Rückfrage zu Vertrag {m}', 'Ich habe eine Rückfrage zur Verlängerung von Vertrag {m}.'],
  ],
  fr: [
    ['Commande {m} arrivée endommagée', 'La commande {m} est arrivée endommagée.'],
    ["Erreur d'adresse sur la facture {m}", "La facture {m} comporte une erreur d'adresse."],
    ['Question sur le contrat {m}', 'J’ai une question sur le renouvellement du contrat {m}.'],
    ["Échec de l'export {m}", "Depuis ce matin, l'export {m} échoue à chaque tentative."],
  ],
  ru: [
    ['Заказ {m} пришёл повреждённым', 'Заказ {m} пришёл повреждённым, коробка была вскрыта.'],
    ['Ошибка в счёте {m}', 'В счёте {m} указан неверный адрес плательщика.'],
    ['Вопрос по договору {m}', 'У меня вопрос по продлению договора {m}.'],
    ['Не могу войти в аккаунт {m}', 'Не могу войти в аккаунт {m}, письмо для сброса не приходит.'],
  ],
};

const REPLIES: Record<Lang, readonly string[]> = {
  en: [
    'The problem is still there after the update, see case {m}.',
    'Here is the log you asked for, reference {m}.',
    'It works again now, ticket {m} can be closed.',
    'We tried the workaround but build {m} still fails.',
    'Adding the serial number you asked for: {m}.',
  ],
  ja: [
    'アップデート後も現象が再現します（ケース{m}）。',
    'ご依頼のログを送付いたします。参照番号は{m}です。',
    'おかげさまで解決しました。{m}はクローズしていただいて結構です。',
    '回避策を試しましたが、ビルド{m}はまだ失敗します。',
    'ご質問の件、製造番号は{m}です。',
  ],
  de: [
    'Das Problem besteht nach dem Update weiterhin, siehe Fall {m}.',
    'Anbei das gewünschte Protokoll, Referenz {m}.',
    'Es funktioniert wieder, Vorgang {m} kann geschlossen werden.',
  ],
  fr: [
    'Le problème persiste après la mise à jour, voir le cas {m}.',
    'Voici le journal demandé, référence {m}.',
    'Tout fonctionne à nouveau, le dossier {m} peut être clos.',
  ],
  ru: [
    'Проблема сохраняется после обновления, см. случай {m}.',
    'Высылаю запрошенный журнал, номер {m}.',
    'Всё снова работает, заявку {m} можно закрыть.',
  ],
};

const GREETINGS: Record<Lang, readonly string[]> = {
  en: ['Hello,', 'Hi team,', 'Good morning,', 'Dear Support,'],
  ja: ['いつもお世話になっております。', 'お世話になっております。', 'サポートご担当者様'],
  de: ['Hallo,', 'Guten Tag,', 'Sehr geehrte Damen und Herren,'],
  fr: ['Bonjour,', 'Madame, Monsieur,'],
  ru: ['Здравствуйте,', 'Добрый день,'],
};
const DETAILS: Record<Lang, readonly string[]> = {
  en: [
    'It worked fine last week.',
    'We already restarted the server twice.',
    'Could you please look into it?',
    'This is urgent for us because the quarter ends on Friday.',
  ],
  ja: [
    '先週までは問題なく動作していました。',
    'サーバーはすでに二回再起動しました。',
    'お手数ですがご確認いただけますでしょうか。',
    '月末の締め処理に影響するため、至急ご対応をお願いいたします。',
  ],
  de: [
    'Letzte Woche hat noch alles funktioniert.',
    'Könnten Sie sich das bitte ansehen?',
    'Wir haben den Server bereits zweimal neu gestartet.',
  ],
  fr: [
    'Tout fonctionnait la semaine dernière.',
    'Pourriez-vous regarder cela rapidement ?',
    'Nous avons déjà redémarré le serveur deux fois.',
  ],
  ru: ['На прошлой неделе всё работало.', 'Посмотрите, пожалуйста, как можно скорее.'],
};
const THANKS: Record<Lang, readonly string[]> = {
  en: ['Thanks for the quick answer.', 'Thank you for getting back to me.'],
  ja: ['ご返信ありがとうございます。', 'ご対応ありがとうございます。'],
  de: ['Danke für die schnelle Antwort.'],
  fr: ['Merci pour votre réponse rapide.'],
  ru: ['Спасибо за быстрый ответ.'],
};
const CLOSINGS: Record<Lang, readonly string[]> = {
  en: ['Thanks,', 'Best regards,', 'Kind regards,'],
  ja: ['よろしくお願いいたします。', '以上、よろしくお願いします。'],
  de: ['Viele Grüße', 'Mit freundlichen Grüßen'],
  fr: ['Cordialement,', 'Bien à vous,'],
  ru: ['С уважением,'],
};

/** Lines that need a charset's own characters, to check it is decoded, not just passed. */
export const CHARSET_LINES: Readonly<Record<string, readonly string[]>> = {
  'windows-1252': [
    'The “Export” button doesn’t respond – nothing happens…',
    'We were charged €49.90 twice.',
  ],
  'iso-8859-15': [
    'Der Betrag von 120 € wurde doppelt abgebucht.',
    'Œuvre complète, Ÿ et œ compris.',
  ],
  'iso-8859-1': ['Größe, Maß und Übergabe: alles geprüft.', 'Déjà vu à Noël, ça coûte ½ prix.'],
  'windows-1251': ['Съешь же ещё этих мягких французских булок.', 'Номер «счёта» указан неверно.'],
  'koi8-r': ['Съешь же ещё этих мягких французских булок, да выпей чаю.'],
  cp932: ['手順①と②は実施済みです。', '㈱サンプル商事のご担当者様にも共有しております。'],
};

/** Whether the charset can carry the text exactly. */
export function fits(text: string, charset: string): boolean {
  try {
    encodeText(text, charset);
    return true;
  } catch {
    return false;
  }
}

/** A new issue's subject and body lines; `includes` are lines the description must keep. */
export interface Written {
  readonly subject: string;
  readonly lines: readonly string[];
  readonly includes: readonly string[];
}

/** A new message about a topic of the sender's language, naming the marker. */
export function newIssueText(
  random: Random,
  person: Person,
  marker: string,
  charset: string,
): Written {
  const topics = TOPICS[person.lang].filter(([s, t]) => fits(s + t, charset));
  const [subject, sentence] = random.pick(topics);
  const markerLine = sentence.replace('{m}', marker);
  const lines = [
    ...opening(random, person, charset),
    markerLine,
    ...pickFitting(random, DETAILS[person.lang], charset, random.int(1, 2)),
    '',
    ...closing(random, person, charset),
  ];
  return { subject: subject.replace('{m}', marker), lines, includes: [markerLine] };
}

/** The new text of a reply, naming the marker. */
export function replyText(
  random: Random,
  person: Person,
  marker: string,
  charset: string,
): Written {
  const markerLine = random
    .pick(REPLIES[person.lang].filter((t) => fits(t, charset)))
    .replace('{m}', marker);
  const lines = [
    ...opening(random, person, charset),
    ...pickFitting(random, THANKS[person.lang], charset, random.int(0, 1)),
    markerLine,
    '',
    ...closing(random, person, charset),
  ];
  return { subject: '', lines, includes: [markerLine] };
}

function opening(random: Random, person: Person, charset: string): string[] {
  const greeting = pickFitting(random, GREETINGS[person.lang], charset, 1);
  if (person.lang === 'ja' && random.chance(0.5)) {
    const surname = person.signature[0]!.split(' ')[0]!;
    const self = `${surname}です。`;
    if (fits(self, charset)) return [...greeting, self, ''];
  }
  return [...greeting, ''];
}

function closing(random: Random, person: Person, charset: string): string[] {
  const lines = pickFitting(random, CLOSINGS[person.lang], charset, 1);
  const name = person.signature[0]!;
  if (fits(name, charset) && random.chance(0.6)) lines.push(name);
  return lines;
}

function pickFitting(
  random: Random,
  pool: readonly string[],
  charset: string,
  count: number,
): string[] {
  const fitting = pool.filter((line) => fits(line, charset));
  return random.shuffle(fitting).slice(0, count);
}
