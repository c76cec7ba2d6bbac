/**
 * Message-IDs and dates as mail clients write them: Gmail's ids with `+`, `=` and `_`,
 * Exchange Online's, Thunderbird's and Apple Mail's UUIDs, Becky!'s timestamps; RFC 5322
 * dates at the sender's UTC offset.
 */
import type { Person } from './corpus-people.js';
import type { Random } from './corpus-random.js';

/** A Message-ID (without brackets) in the shape the client writes, unique in the corpus. */
export function messageIdFor(
  random: Random,
  person: Person,
  date: Date,
  used: Set<string>,
): string {
  for (;;) {
    const id = shapedMessageId(random, person, date);
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function shapedMessageId(random: Random, person: Person, date: Date): string {
  const domain = person.address.split('@')[1]!;
  switch (person.client) {
    case 'gmail':
      // Gmail's ids carry +, = and _; a parser that treats them as specials loses the thread
      return `CA${random.string(`${ALNUM}+=_-`, 44)}${random.string(ALNUM, 2)}@mail.gmail.com`;
    case 'outlook': {
      const region = person.lang === 'ja' ? ['TYCPR01MB', 'jpnprd01'] : ['DM6PR11MB', 'namprd11'];
      const host = `${region[0]}${random.int(1000, 9999)}`;
      return `${host}${random.string('ABCDEF0123456789', 12)}${random.string(ALNUM.slice(0, 26), 8)}@${host}.${region[1]}.prod.outlook.com`;
    }
    case 'thunderbird':
      return `${uuid(random)}@${domain}`;
    case 'apple':
      return `${uuid(random).toUpperCase()}@${domain}`;
    case 'becky': {
      const stamp = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      return `${stamp}.${random.string('0123456789ABCDEF', 8)}.RW@${domain}`;
    }
  }
}

function uuid(random: Random): string {
  const hex = (n: number) => random.string(HEX, n);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${random.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The wall-clock fields of an instant at a UTC offset. */
export function localTime(date: Date, utcOffset: number) {
  const local = new Date(date.getTime() + utcOffset * 60_000);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth(),
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

/** An RFC 5322 §3.3 date-time at the sender's offset. */
export function rfc5322Date(date: Date, utcOffset: number): string {
  const t = localTime(date, utcOffset);
  const sign = utcOffset < 0 ? '-' : '+';
  const abs = Math.abs(utcOffset);
  const zone = `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  return `${DAYS[t.weekday]}, ${t.day} ${MONTHS[t.month]} ${t.year} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)} ${zone}`;
}

export const pad = (n: number) => String(n).padStart(2, '0');
