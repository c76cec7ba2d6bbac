import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLinkRepository } from '../../../src/store/repositories/links.js';
import { inTransaction } from '../../../src/store/repositories/transaction.js';
import { Dialects } from '../../support/harness.js';
import { insertLink, withRepositoryWorld } from './support.js';

for (const dialect of Dialects) {
  describe(`inTransaction on ${dialect}`, () => {
    it('commits what repositories bound to the transaction wrote', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const id = await insertLink(store);
        await inTransaction(store.db, (trx) => createLinkRepository(trx).delete(id));
        assert.equal(await createLinkRepository(store.db).findById(id), undefined);
      });
    });

    it('rolls everything back when the work throws, and rethrows', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const id = await insertLink(store);
        const boom = new Error('boom');
        await assert.rejects(
          inTransaction(store.db, async (trx) => {
            await createLinkRepository(trx).delete(id);
            throw boom;
          }),
          (error) => error === boom,
        );
        assert.equal((await createLinkRepository(store.db).findById(id))?.id, id);
      });
    });

    it('joins a transaction it is given instead of opening another', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const id = await insertLink(store);
        await assert.rejects(
          inTransaction(store.db, async (outer) => {
            await inTransaction(outer, (inner) => {
              assert.equal(inner, outer);
              return createLinkRepository(inner).delete(id);
            });
            throw new Error('undo both');
          }),
        );
        assert.equal((await createLinkRepository(store.db).findById(id))?.id, id);
      });
    });
  });
}
