import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, type Store } from '../../src/store/db.js';

/**
 * The WAL's frames and how many of them are in the database file: `mxFrame` of the
 * wal-index header and `nBackfill` of the checkpoint information after its two copies
 * (https://www.sqlite.org/walformat.html, "The WAL-Index File Format").
 */
function walState(file: string): { frames: number; backfilled: number } {
  const fd = openSync(`${file}-shm`, 'r');
  try {
    const head = Buffer.alloc(100);
    readSync(fd, head, 0, 100, 0);
    return { frames: head.readUInt32LE(16), backfilled: head.readUInt32LE(96) };
  } finally {
    closeSync(fd);
  }
}

async function writeSome(store: Store, prefix: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await store.db
      .insertInto('issue_counters')
      .values({ prefix: `${prefix}${i}`, last_number: i })
      .execute();
  }
}

/** Waits until `check` holds, up to `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(25);
  }
  return check();
}

/**
 * Issue 12: long-running processes checkpoint SQLite's WAL on a thread of their own, so no
 * commit on the event loop copies pages into the database file and syncs it.
 */
describe('background WAL checkpoints (SQLite)', () => {
  const world = async (background: boolean, run: (store: Store, file: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'outlink-checkpoint-'));
    const file = join(dir, 'outlink.db');
    const errors: Error[] = [];
    const store = openStore(
      { kind: 'sqlite', file },
      background ? { backgroundCheckpoints: { onError: (error) => errors.push(error) } } : {},
    );
    try {
      await store.migrate();
      await run(store, file);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(errors, [], 'neither a failed checkpoint nor a thread that died');
  };

  it('copies committed frames into the database file without a commit doing it', async () => {
    await world(true, async (store, file) => {
      await writeSome(store, 'A');
      assert.ok(
        await eventually(() => {
          const wal = walState(file);
          return wal.frames > 0 && wal.backfilled === wal.frames;
        }, 3_000),
        `every frame checkpointed: ${JSON.stringify(walState(file))}`,
      );
      // And again after more commits (the thread keeps running).
      const before = walState(file);
      await writeSome(store, 'B');
      assert.ok(
        await eventually(() => {
          const wal = walState(file);
          return wal.backfilled === wal.frames && JSON.stringify(wal) !== JSON.stringify(before);
        }, 3_000),
        `the later frames checkpointed: ${JSON.stringify(walState(file))}`,
      );
      const rows = await store.db.selectFrom('issue_counters').select('prefix').execute();
      assert.equal(rows.length, 40);
    });
  });

  it('leaves the WAL alone without it (a CLI command: SQLite checkpoints past 1,000 pages)', async () => {
    await world(false, async (store, file) => {
      await writeSome(store, 'C');
      await sleep(600);
      const wal = walState(file);
      assert.ok(wal.frames > 0);
      assert.equal(wal.backfilled, 0);
    });
  });

  it('stops its thread on close, and the data is all there when opened again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outlink-checkpoint-'));
    const file = join(dir, 'outlink.db');
    try {
      const store = openStore({ kind: 'sqlite', file }, { backgroundCheckpoints: {} });
      await store.migrate();
      await writeSome(store, 'D');
      const started = Date.now();
      await store.close();
      assert.ok(Date.now() - started < 2_000, `closed in ${Date.now() - started} ms`);
      const again = openStore({ kind: 'sqlite', file });
      try {
        const rows = await again.db.selectFrom('issue_counters').select('prefix').execute();
        assert.equal(rows.length, 20);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
