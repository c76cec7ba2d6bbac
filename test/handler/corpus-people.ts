/**
 * The people who write to the mailbox in the corpus: names in five languages, addresses,
 * signatures, the mail client each uses (which decides Message-ID shape, quoting and
 * charsets), and the cap on how often one address may write (the handler throttles a sender
 * above 20 messages in 10 minutes; the corpus keeps everyone but the flooder at 15).
 */
import type { Random } from './corpus-random.js';

export type Lang = 'en' | 'ja' | 'de' | 'fr' | 'ru';
export type Client = 'gmail' | 'outlook' | 'thunderbird' | 'apple' | 'becky';

/** One sender. */
export interface Person {
  /** The display name, decoded; empty for a bare address. */
  readonly name: string;
  /** Lower-case, as the handler records the reporter. */
  readonly address: string;
  readonly lang: Lang;
  readonly client: Client;
  /** The lines after the `-- ` separator. */
  readonly signature: readonly string[];
  /** A line of the signature that no other text of the corpus has. */
  readonly signatureMarker: string;
  /** Minutes east of UTC, for Date headers. */
  readonly utcOffset: number;
  /** Whether the name carries characters only CP932 has (髙, 﨑): kept out of other charsets. */
  readonly cp932Only: boolean;
}

type Pairs = readonly (readonly [string, string])[];

/** The most messages any sender but the flooder writes. */
export const SENDER_CAP = 15;

const JA_SURNAMES: Pairs = [
  ['佐藤', 'sato'],
  ['鈴木', 'suzuki'],
  ['高橋', 'takahashi'],
  ['田中', 'tanaka'],
  ['伊藤', 'ito'],
  ['渡辺', 'watanabe'],
  ['山本', 'yamamoto'],
  ['中村', 'nakamura'],
  ['小林', 'kobayashi'],
  ['加藤', 'kato'],
  ['吉田', 'yoshida'],
  ['山田', 'yamada'],
  ['佐々木', 'sasaki'],
  ['松本', 'matsumoto'],
  ['井上', 'inoue'],
  ['木村', 'kimura'],
  ['清水', 'shimizu'],
  ['森', 'mori'],
];
const JA_CP932_SURNAMES: Pairs = [
  ['髙橋', 'takahashi'],
  ['山﨑', 'yamazaki'],
  ['髙木', 'takagi'],
  ['宮﨑', 'miyazaki'],
];
const JA_GIVEN: Pairs = [
  ['太郎', 'taro'],
  ['花子', 'hanako'],
  ['健一', 'kenichi'],
  ['美咲', 'misaki'],
  ['翔太', 'shota'],
  ['陽菜', 'hina'],
  ['大輔', 'daisuke'],
  ['由美', 'yumi'],
  ['誠', 'makoto'],
  ['直子', 'naoko'],
  ['拓也', 'takuya'],
  ['恵', 'megumi'],
];
const EN_FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'Michael', 'Jennifer', 'David', 'Linda'];
const EN_FIRST_MORE = [
  'William',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Daniel',
  'Nancy',
];
const EN_LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Garcia', 'Miller', 'Davis', 'Wilson'];
const EN_LAST_MORE = [
  'Anderson',
  'Taylor',
  'Moore',
  'Martin',
  'Clark',
  'Lewis',
  "O'Brien",
  'Harris',
];
const DE_NAMES: Pairs = [
  ['Jürgen', 'juergen'],
  ['Jörg', 'joerg'],
  ['Günther', 'guenther'],
  ['Lena', 'lena'],
  ['Sören', 'soeren'],
  ['Björn', 'bjoern'],
  ['Anja', 'anja'],
  ['Matthias', 'matthias'],
];
const DE_LAST: Pairs = [
  ['Müller', 'mueller'],
  ['Schäfer', 'schaefer'],
  ['Weiß', 'weiss'],
  ['Köhler', 'koehler'],
  ['Schröder', 'schroeder'],
  ['Krüger', 'krueger'],
  ['Hoffmann', 'hoffmann'],
  ['Groß', 'gross'],
];
const FR_NAMES: Pairs = [
  ['François', 'francois'],
  ['Élodie', 'elodie'],
  ['Hélène', 'helene'],
  ['Jérôme', 'jerome'],
  ['Chloé', 'chloe'],
  ['Loïc', 'loic'],
  ['Amélie', 'amelie'],
  ['Benoît', 'benoit'],
];
const FR_LAST: Pairs = [
  ['Lefèvre', 'lefevre'],
  ['Dupont', 'dupont'],
  ['Gagné', 'gagne'],
  ['Mercier', 'mercier'],
  ['Lemaître', 'lemaitre'],
  ['Rousseau', 'rousseau'],
  ['Fournier', 'fournier'],
  ['Bézier', 'bezier'],
];
const RU_NAMES: Pairs = [
  ['Иван Петров', 'ivan.petrov'],
  ['Ольга Смирнова', 'olga.smirnova'],
  ['Дмитрий Козлов', 'dmitry.kozlov'],
  ['Анна Попова', 'anna.popova'],
  ['Сергей Волков', 'sergey.volkov'],
  ['Наталья Соколова', 'natalia.sokolova'],
  ['Алексей Морозов', 'alexey.morozov'],
  ['Елена Новикова', 'elena.novikova'],
  ['Михаил Лебедев', 'mikhail.lebedev'],
  ['Татьяна Кузнецова', 'tatiana.kuznetsova'],
];

const DOMAINS: Record<Lang, readonly string[]> = {
  en: ['example.com', 'example.net', 'example.org', 'mail.example.com'],
  ja: ['example.co.jp', 'example.jp', 'example.ne.jp', 'example.or.jp'],
  de: ['beispiel.example', 'firma.example'],
  fr: ['exemple.example', 'societe.example'],
  ru: ['primer.example', 'kompaniya.example'],
};
const COMPANIES: Record<Lang, readonly string[]> = {
  en: ['Acme Widgets Inc.', 'Globex Logistics', 'Initech Support', 'Umbrella Freight'],
  ja: [
    '株式会社サンプル商事 営業部',
    'さくら物流株式会社',
    'みどり電機株式会社 技術部',
    '株式会社あおば',
  ],
  de: ['Beispiel GmbH', 'Muster & Söhne KG', 'Nordlicht AG'],
  fr: ['Exemple SARL', 'Société Générique', 'Atelier Durand'],
  ru: ['ООО "Пример"', 'АО "Север"', 'ООО "Восток-Сервис"'],
};
const CLIENTS: Record<Lang, readonly (readonly [Client, number])[]> = {
  en: [
    ['gmail', 4],
    ['outlook', 3],
    ['thunderbird', 2],
    ['apple', 2],
  ],
  ja: [
    ['gmail', 3],
    ['outlook', 3],
    ['thunderbird', 2],
    ['becky', 2],
    ['apple', 1],
  ],
  de: [
    ['gmail', 2],
    ['outlook', 2],
    ['thunderbird', 3],
  ],
  fr: [
    ['gmail', 2],
    ['outlook', 2],
    ['thunderbird', 2],
    ['apple', 1],
  ],
  ru: [
    ['gmail', 2],
    ['outlook', 2],
    ['thunderbird', 2],
  ],
};
const OFFSETS: Record<Lang, readonly number[]> = {
  en: [-300, -480, 0],
  ja: [540],
  de: [60],
  fr: [60],
  ru: [180],
};

/** The people of one corpus, created as needed, each written at most SENDER_CAP times. */
export interface People {
  /** Someone of the language who may still write, new or known. */
  pick(lang: Lang, options?: { readonly cp932?: boolean; readonly not?: string }): Person;
  /** Counts one message from the address; throws past the cap. */
  use(address: string, cap?: number): void;
  /** How many messages the address has sent. */
  uses(address: string): number;
}

/** A people pool drawing on the corpus's random sequence. */
export function createPeople(random: Random): People {
  const known: Person[] = [];
  const addresses = new Set<string>();
  const counts = new Map<string, number>();
  let serial = 0;

  const create = (lang: Lang, cp932: boolean): Person => {
    serial += 1;
    const { name, local, signatureName } = nameFor(random, lang, cp932);
    let address = `${local}@${random.pick(DOMAINS[lang])}`;
    while (addresses.has(address))
      address = `${local}${random.int(2, 99)}@${random.pick(DOMAINS[lang])}`;
    addresses.add(address);
    const marker = signatureMarkerFor(lang, serial);
    const person: Person = {
      name,
      address,
      lang,
      client: random.weighted(CLIENTS[lang]),
      signature: [signatureName, random.pick(COMPANIES[lang]), marker],
      signatureMarker: marker,
      utcOffset: random.pick(OFFSETS[lang]),
      cp932Only: cp932,
    };
    known.push(person);
    return person;
  };

  return {
    pick(lang, options = {}) {
      const cp932 = options.cp932 ?? false;
      const eligible = known.filter(
        (person) =>
          person.lang === lang &&
          person.cp932Only === cp932 &&
          person.address !== options.not &&
          (counts.get(person.address) ?? 0) < SENDER_CAP - 3,
      );
      if (eligible.length < 4 || random.chance(0.15)) return create(lang, cp932);
      return random.pick(eligible);
    },
    use(address, cap = SENDER_CAP) {
      const count = (counts.get(address) ?? 0) + 1;
      if (count > cap) throw new Error(`${address} would send ${count} messages`);
      counts.set(address, count);
    },
    uses: (address) => counts.get(address) ?? 0,
  };
}

function nameFor(
  random: Random,
  lang: Lang,
  cp932: boolean,
): { name: string; local: string; signatureName: string } {
  switch (lang) {
    case 'ja': {
      const [surname, surnameRomaji] = random.pick(cp932 ? JA_CP932_SURNAMES : JA_SURNAMES);
      const [given, givenRomaji] = random.pick(JA_GIVEN);
      const kanji = `${surname} ${given}`;
      const romaji = `${cap(givenRomaji)} ${cap(surnameRomaji)}`;
      const name = random.weighted<string>([
        [kanji, 5],
        [`${surname}${given}`, 2],
        [romaji, 2],
        [`${surnameRomaji.toUpperCase()} ${cap(givenRomaji)}`, 1],
      ]);
      const local = random.pick([
        `${givenRomaji}.${surnameRomaji}`,
        `${givenRomaji[0]}-${surnameRomaji}`,
        `${surnameRomaji}_${givenRomaji}`,
      ]);
      return { name, local, signatureName: kanji };
    }
    case 'en': {
      const first = random.pick([...EN_FIRST, ...EN_FIRST_MORE]);
      const last = random.pick([...EN_LAST, ...EN_LAST_MORE]);
      const full = `${first} ${last}`;
      const name = random.weighted<string>([
        [full, 6],
        [`${last}, ${first}`, 1],
        ['', 1],
      ]);
      const local = `${first}.${last}`.toLowerCase().replace(/'/g, '');
      return { name, local, signatureName: full };
    }
    case 'de':
    case 'fr': {
      const [first, firstAscii] = random.pick(lang === 'de' ? DE_NAMES : FR_NAMES);
      const [last, lastAscii] = random.pick(lang === 'de' ? DE_LAST : FR_LAST);
      return {
        name: `${first} ${last}`,
        local: `${firstAscii}.${lastAscii}`,
        signatureName: `${first} ${last}`,
      };
    }
    case 'ru': {
      const [name, local] = random.pick(RU_NAMES);
      return { name, local, signatureName: name };
    }
  }
}

function signatureMarkerFor(lang: Lang, serial: number): string {
  const four = String(1000 + serial).padStart(4, '0');
  switch (lang) {
    case 'en':
      return `Phone: +1 202 555 ${four}`;
    case 'ja':
      return `TEL: 03-5555-${four}`;
    case 'de':
      return `Tel.: +49 30 5555 ${four}`;
    case 'fr':
      return `Tél. : +33 1 55 55 ${four.slice(0, 2)} ${four.slice(2)}`;
    case 'ru':
      return `Тел.: +7 495 555-${four.slice(0, 2)}-${four.slice(2)}`;
  }
}

const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
