import type { Cipher } from '../crypto/cipher.js';
import { DecryptError } from '../crypto/cipher.js';
import {
  generateMasterKey,
  KEY_FILE_RECHECK_MS,
  keyIdOf,
  readKeyFile,
  writeKeyFile,
} from '../crypto/keyring.js';
import type { Actor } from '../domain/actor.js';
import { type Clock, type Sleep, systemSleep } from '../domain/clock.js';
import { OutlinkError } from '../domain/errors.js';
import { createClusterStateRepository } from '../store/repositories/cluster-state.js';
import {
  createSecretRepository,
  SECRET_COLUMNS,
  type SecretColumn,
} from '../store/repositories/secrets.js';
import type { Executor } from '../store/repositories/transaction.js';
import type { EventService } from './events.js';

/** Enough for writers that raced one pass; a writer cannot keep using a superseded key. */
const MAX_ROTATION_PASSES = 5;

export interface RotationProgress {
  readonly done: number;
  readonly total: number;
}

export interface KeyService {
  /**
   * Proves at start that every stored secret can be decrypted: each key id in use must be in
   * the keyring, and one value per key id must decrypt. A wrong key fails here, not later.
   */
  verify(): Promise<void>;
  /**
   * Issue 14: the database records the key new secrets are written under. A node whose keys
   * lack it (an older or a different key set) is refused (`key_set_outdated`) before it can
   * write what the other nodes cannot read; a node whose newest key is newer records it.
   */
  checkKeySet(): Promise<void>;
  /**
   * Re-encrypts every secret under the keyring's current key. With a key file, first puts a
   * new key at its head (old keys stay, so a running server can still read what it has not
   * yet seen rotated). Returns the number of values re-encrypted.
   */
  rotate(
    actor: Actor,
    onProgress?: (p: RotationProgress) => void | Promise<void>,
  ): Promise<{ keyId: string; reencrypted: number }>;
  /**
   * Removes an old key from the key file once no stored secret is encrypted under it
   * (issue 11); refuses with what still uses it otherwise, and refuses the current key.
   */
  retire(actor: Actor, keyId: string): Promise<{ keyId: string; remaining: string[] }>;
}

export function createKeyService(deps: {
  db: Executor;
  cipher: Cipher;
  events: EventService;
  clock: Clock;
  /** Waits for the other processes to see a new key file (real time by default). */
  sleep?: Sleep;
}): KeyService {
  const { db, cipher, events } = deps;
  const secrets = createSecretRepository(db);
  const state = createClusterStateRepository(db);
  const recordCurrent = (keyId: string) =>
    state.set('current_key_id', keyId, deps.clock.now().toISOString());

  return {
    async verify() {
      const known = cipher.keyring.ids();
      const samples = new Map<string, { col: SecretColumn; id: string; value: string }>();
      for (const col of SECRET_COLUMNS) {
        for (const row of await secrets.list(col)) {
          const keyId = safeKeyId(cipher, row.value);
          if (!samples.has(keyId)) samples.set(keyId, { col, ...row });
        }
      }
      const unknown = [...samples.keys()].filter((id) => !known.includes(id));
      if (unknown.length > 0) {
        throw new OutlinkError('master_key_mismatch', {
          keyIds: unknown.join(', '),
          known: known.join(', '),
        });
      }
      for (const [keyId, sample] of samples) {
        try {
          cipher.decrypt(sample.value, sample.col.aad(sample.id));
        } catch (error) {
          if (error instanceof DecryptError) {
            throw new OutlinkError(
              'master_key_mismatch',
              { keyIds: keyId, known: known.join(', ') },
              { cause: error },
            );
          }
          throw error;
        }
      }
    },

    async checkKeySet() {
      const recorded = (await state.readAll())?.current_key_id;
      const current = cipher.keyring.current().id;
      if (recorded === current) return;
      if (recorded !== undefined && !cipher.keyring.ids().includes(recorded)) {
        throw new OutlinkError('key_set_outdated', {
          current: recorded,
          known: cipher.keyring.ids().join(', '),
        });
      }
      await recordCurrent(current);
    },

    async rotate(actor, onProgress) {
      const source = cipher.keyring.source;
      if (source.kind === 'file') {
        writeKeyFile(source.path, [generateMasterKey(), ...readKeyFile(source.path)]);
        cipher.keyring.reload();
        // Every process encrypts under the key it read at most this long ago (keyring.ts):
        // after the wait none uses the old one, so what the passes leave is all there is.
        await (deps.sleep ?? systemSleep)(KEY_FILE_RECHECK_MS);
      }
      const target = cipher.keyring.current().id;
      let reencrypted = 0;
      // Passes until no value names an old key: a server that encrypted under the old key just
      // before it saw the new key file may commit after a pass read its rows.
      for (let pass = 0; pass < MAX_ROTATION_PASSES; pass += 1) {
        const work: { col: SecretColumn; id: string; value: string }[] = [];
        for (const col of SECRET_COLUMNS) {
          for (const row of await secrets.list(col)) {
            if (safeKeyId(cipher, row.value) !== target) work.push({ col, ...row });
          }
        }
        if (work.length === 0) break;
        let done = 0;
        for (const item of work) {
          const fresh = cipher.encrypt(
            cipher.decrypt(item.value, item.col.aad(item.id)),
            item.col.aad(item.id),
          );
          // Swapped only if unchanged since it was read, so a secret written meanwhile is not
          // overwritten with the old value; the next pass looks at it again.
          if (await secrets.replace(item.col, item.id, item.value, fresh)) reencrypted += 1;
          done += 1;
          if (onProgress && (done % 100 === 0 || done === work.length)) {
            await onProgress({ done, total: work.length });
          }
        }
      }
      await recordCurrent(target);
      await events.record(db, { type: 'key.rotated', actor, data: { keyId: target, reencrypted } });
      return { keyId: target, reencrypted };
    },

    async retire(actor, keyId) {
      const source = cipher.keyring.source;
      if (source.kind !== 'file') throw new OutlinkError('key_retire_unsupported');
      const keys = readKeyFile(source.path);
      if (!keys.some((k) => keyIdOf(k) === keyId)) {
        throw new OutlinkError('key_not_found', { keyId, known: cipher.keyring.ids().join(', ') });
      }
      if (keyIdOf(keys[0]!) === keyId) throw new OutlinkError('key_is_current', { keyId });
      // New secrets are only ever encrypted under the current key, so what is found here is
      // all that will ever use this one.
      const uses: string[] = [];
      for (const col of SECRET_COLUMNS) {
        const count = (await secrets.list(col)).filter(
          (row) => safeKeyId(cipher, row.value) === keyId,
        ).length;
        if (count > 0) uses.push(`${col.table}.${col.column} (${count})`);
      }
      if (uses.length > 0) {
        throw new OutlinkError(
          'key_in_use',
          { keyId, uses: uses.join(', ') },
          { details: { uses } },
        );
      }
      const remaining = keys.filter((k) => keyIdOf(k) !== keyId);
      writeKeyFile(source.path, remaining);
      await events.record(db, { type: 'key.retired', actor, data: { keyId } });
      return { keyId, remaining: remaining.map(keyIdOf) };
    },
  };
}

function safeKeyId(cipher: Cipher, value: string): string {
  try {
    return cipher.keyIdOf(value);
  } catch {
    return 'unreadable';
  }
}
