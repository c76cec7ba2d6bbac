import { closeSync, openSync, readSync } from 'node:fs';

/**
 * How many write transactions SQLite has committed to the WAL-mode database `file`, by any
 * connection: the `iChange` counter of the wal-index header at the start of `-shm`, which
 * every commit moves by one (https://www.sqlite.org/walformat.html, "The WAL-Index Header";
 * native byte order).
 */
export function sqliteCommits(file: string): number {
  const fd = openSync(`${file}-shm`, 'r');
  try {
    const header = Buffer.alloc(12);
    readSync(fd, header, 0, 12, 0);
    return header.readUInt32LE(8);
  } finally {
    closeSync(fd);
  }
}
