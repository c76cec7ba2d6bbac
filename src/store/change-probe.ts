import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Issue 12: tells, for the cost of one small read, whether any process may have committed to
 * a SQLite database since the last look, so the in-process caches need not ask SQLite for
 * their epochs on every request (a read transaction, two file locks and a statement: a sixth
 * of the token route's CPU).
 *
 * In WAL mode every commit, by any connection of any process, rewrites the wal-index header
 * at the start of the `-shm` file, and that write is the commit point: its `iChange` counter
 * moves with each transaction, `mxFrame` with each frame, the salts with each WAL restart
 * (https://www.sqlite.org/walformat.html, "The WAL-Index Header"). SQLite maps that file
 * shared, so a `pread` of it sees what every process wrote. A header that reads the same as
 * last time means nothing was committed in between; any difference (a commit, a checkpoint,
 * a write in progress) moves the version, and the caller reads from the database again. A
 * false "changed" costs one query; a false "unchanged" cannot happen while the header is
 * written on every commit.
 *
 * The file stays valid while this process holds a connection to the database in WAL mode:
 * SQLite removes or resets `-shm` only when the last connection closes.
 */
export interface ChangeProbe {
  /** A number that moves whenever a commit may have happened since it was last asked. */
  version(): number;
  close(): void;
}

/** Both copies of the wal-index header (48 bytes each). */
const HEADER_BYTES = 96;

/**
 * A probe of the SQLite database `file`, which the caller holds open in WAL mode. SQLite
 * creates `-shm` with the first read; until this process can open it, every look counts as
 * a change (callers query every time, as without a probe).
 */
export function openWalChangeProbe(file: string): ChangeProbe {
  let fd: number | undefined;
  let closed = false;
  const last = Buffer.alloc(HEADER_BYTES);
  const now = Buffer.alloc(HEADER_BYTES);
  let version = 0;
  return {
    version() {
      if (closed) return ++version;
      let read = 0;
      try {
        fd ??= openSync(`${file}-shm`, 'r');
        read = readSync(fd, now, 0, HEADER_BYTES, 0);
      } catch {
        read = 0;
      }
      // A short read (a header not written yet) or an error never counts as unchanged.
      if (read < HEADER_BYTES || !now.equals(last)) {
        now.copy(last);
        version++;
      }
      return version;
    },
    close() {
      if (closed) return;
      closed = true;
      if (fd !== undefined) closeSync(fd);
    },
  };
}

const probes = new WeakMap<object, ChangeProbe>();

/** Registers `probe` for the Kysely instance `db` (openStore, for a SQLite file in WAL mode). */
export function registerChangeProbe(db: object, probe: ChangeProbe): void {
  probes.set(db, probe);
}

/**
 * The probe of `db`, when it is a whole database with one; undefined for a transaction (which
 * must read inside itself), PostgreSQL, or an in-memory SQLite database.
 */
export function changeProbeOf(db: object): ChangeProbe | undefined {
  return probes.get(db);
}
