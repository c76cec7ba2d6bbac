/**
 * The lines mail clients put above quoted history, per client and language: attribution lines
 * (Gmail, Apple Mail, Thunderbird, Becky!) and Outlook's header block with its separator. Each
 * comes with the strings that identify it, which a comment must not keep.
 */
import { localTime, pad } from './corpus-ids.js';
import type { Lang, Person } from './corpus-people.js';
import type { Original } from './corpus-quotes.js';
import type { Random } from './corpus-random.js';

const EN_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const EN_LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const EN_MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];
const EN_LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const JA_DAYS = ['日', '月', '火', '水', '木', '金', '土'];
const DE_DAYS = ['So.', 'Mo.', 'Di.', 'Mi.', 'Do.', 'Fr.', 'Sa.'];
const DE_MONTHS = [
  'Jan.',
  'Feb.',
  'März',
  'Apr.',
  'Mai',
  'Juni',
  'Juli',
  'Aug.',
  'Sept.',
  'Okt.',
  'Nov.',
  'Dez.',
];
const FR_DAYS = ['dim.', 'lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.'];
const FR_MONTHS = [
  'janv.',
  'févr.',
  'mars',
  'avr.',
  'mai',
  'juin',
  'juil.',
  'août',
  'sept.',
  'oct.',
  'nov.',
  'déc.',
];
const RU_DAYS = ['вс', 'пн', 'вт', 'ср', 'чт', 'пт', 'сб'];
const RU_MONTHS = [
  'янв.',
  'февр.',
  'мар.',
  'апр.',
  'мая',
  'июн.',
  'июл.',
  'авг.',
  'сент.',
  'окт.',
  'нояб.',
  'дек.',
];

function clock12(hour: number, minute: number): string {
  return `${hour % 12 === 0 ? 12 : hour % 12}:${pad(minute)} ${hour < 12 ? 'AM' : 'PM'}`;
}

/** The attribution line(s) the author's client writes above a quote, and what identifies them. */
export function attributionFor(
  author: Person,
  original: Original,
  wrap: boolean,
): { lines: string[]; excludes: string[] } {
  const t = localTime(original.date, author.utcOffset);
  const who = original.author.name || original.author.address;
  const addr = original.author.address;
  const hm = `${pad(t.hour)}:${pad(t.minute)}`;
  const lang: Lang = author.lang;
  if (author.client === 'gmail') {
    switch (lang) {
      case 'en': {
        const date = `${EN_DAYS[t.weekday]}, ${EN_MONTHS[t.month]} ${t.day}, ${t.year} at ${clock12(t.hour, t.minute)}`;
        const lines = wrap
          ? [`On ${date} ${who} <`, `${addr}> wrote:`]
          : [`On ${date} ${who} <${addr}> wrote:`];
        return { lines, excludes: [date, 'wrote:'] };
      }
      case 'ja': {
        const date = `${t.year}年${t.month + 1}月${t.day}日(${JA_DAYS[t.weekday]}) ${hm}`;
        const lines = wrap ? [`${date} ${who} <`, `${addr}>:`] : [`${date} ${who} <${addr}>:`];
        return { lines, excludes: [date] };
      }
      case 'de': {
        const date = `${DE_DAYS[t.weekday]}, ${t.day}. ${DE_MONTHS[t.month]} ${t.year} um ${hm}`;
        return { lines: [`Am ${date} Uhr schrieb ${who} <${addr}>:`], excludes: [date, 'schrieb'] };
      }
      case 'fr': {
        const date = `${FR_DAYS[t.weekday]} ${t.day} ${FR_MONTHS[t.month]} ${t.year} à ${hm}`;
        return { lines: [`Le ${date}, ${who} <${addr}> a écrit :`], excludes: [date, 'a écrit'] };
      }
      case 'ru': {
        const date = `${RU_DAYS[t.weekday]}, ${t.day} ${RU_MONTHS[t.month]} ${t.year} г. в ${hm}`;
        return { lines: [`${date}, ${who} <${addr}>:`], excludes: [date] };
      }
    }
  }
  if (author.client === 'apple') {
    if (lang === 'ja') {
      const date = `${t.year}/${pad(t.month + 1)}/${pad(t.day)} ${hm}`;
      return { lines: [`${date}、${who} <${addr}>のメール:`], excludes: [date, 'のメール:'] };
    }
    const date = `${EN_MONTHS[t.month]} ${t.day}, ${t.year}, at ${hm}`;
    return { lines: [`On ${date}, ${who} <${addr}> wrote:`], excludes: [date, 'wrote:'] };
  }
  if (author.client === 'becky') {
    // Becky! writes the date and the author on two lines
    const date = `On ${EN_DAYS[t.weekday]}, ${pad(t.day)} ${EN_MONTHS[t.month]} ${t.year} ${hm}:${pad(t.second)} +0900`;
    return { lines: [date, `${who} <${addr}> wrote:`], excludes: [date, 'wrote:'] };
  }
  // Thunderbird
  switch (lang) {
    case 'ja': {
      const date = `${t.year}/${pad(t.month + 1)}/${pad(t.day)} ${hm}`;
      return {
        lines: [`${date} に ${who} さんは書きました:`],
        excludes: [date, 'さんは書きました:'],
      };
    }
    case 'de': {
      const date = `${pad(t.day)}.${pad(t.month + 1)}.${String(t.year).slice(2)} um ${hm}`;
      return { lines: [`Am ${date} schrieb ${who}:`], excludes: [date, 'schrieb'] };
    }
    case 'fr': {
      const date = `${pad(t.day)}/${pad(t.month + 1)}/${t.year} à ${hm}`;
      return { lines: [`Le ${date}, ${who} a écrit :`], excludes: [date, 'a écrit'] };
    }
    case 'ru': {
      const date = `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${hm}`;
      return { lines: [`${date}, ${who} пишет:`], excludes: [date, 'пишет:'] };
    }
    case 'en': {
      const date = `${t.month + 1}/${t.day}/${String(t.year).slice(2)} ${clock12(t.hour, t.minute)}`;
      return { lines: [`On ${date}, ${who} wrote:`], excludes: [date, 'wrote:'] };
    }
  }
}

/** Outlook's classic separator as each language's Outlook writes it (Japanese Outlook keeps English). */
const CLASSIC_SEPARATOR: Record<Lang, string> = {
  en: '-----Original Message-----',
  ja: '-----Original Message-----',
  de: '-----Ursprüngliche Nachricht-----',
  fr: "-----Message d'origine-----",
  ru: '-----Исходное сообщение-----',
};

/** Outlook's header block over the quoted message, in the author's language. */
export function outlookHeader(
  random: Random,
  lang: Lang,
  original: Original,
  mailbox: { readonly name: string; readonly address: string },
): { lines: string[]; excludes: string[] } {
  const t = localTime(original.date, original.author.utcOffset);
  const from = original.author.name
    ? `${original.author.name} <${original.author.address}>`
    : original.author.address;
  const to = `${mailbox.name} <${mailbox.address}>`;
  const subject = original.subject;
  const labels: Record<Lang, readonly [string, string, string, string, string]> = {
    en: [
      'From:',
      'Sent:',
      'To:',
      'Subject:',
      `${EN_LONG_DAYS[t.weekday]}, ${EN_LONG_MONTHS[t.month]} ${t.day}, ${t.year} ${clock12(t.hour, t.minute)}`,
    ],
    ja: [
      '差出人:',
      '送信日時:',
      '宛先:',
      '件名:',
      `${t.year}年${t.month + 1}月${t.day}日 ${t.hour}:${pad(t.minute)}`,
    ],
    de: [
      'Von:',
      'Gesendet:',
      'An:',
      'Betreff:',
      `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
    fr: [
      'De :',
      'Envoyé :',
      'À :',
      'Objet :',
      `${pad(t.day)}/${pad(t.month + 1)}/${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
    ru: [
      'От:',
      'Отправлено:',
      'Кому:',
      'Тема:',
      `${pad(t.day)}.${pad(t.month + 1)}.${t.year} ${pad(t.hour)}:${pad(t.minute)}`,
    ],
  };
  const [fromLabel, sentLabel, toLabel, subjectLabel, date] = labels[lang];
  // the classic separator, the newer rule, or (Outlook for the web) none at all
  const separator = random.weighted<string | null>([
    [CLASSIC_SEPARATOR[lang], 3],
    ['________________________________', 3],
    [null, 1],
  ]);
  const sent = `${sentLabel} ${date}`;
  const lines = [
    ...(separator ? [separator] : []),
    `${fromLabel} ${from}`,
    sent,
    `${toLabel} ${to}`,
    `${subjectLabel} ${subject}`,
  ];
  return { lines, excludes: [...(separator ? [separator] : []), sent] };
}
