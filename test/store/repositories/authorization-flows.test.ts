import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  createAuthorizationFlowRepository,
  type NewFlow,
} from '../../../src/store/repositories/authorization-flows.js';
import { Dialects } from '../../support/harness.js';
import { insertLink, withRepositoryWorld } from './support.js';

const newFlow = (linkId: string, overrides: Partial<NewFlow> = {}): NewFlow => ({
  id: randomUUID(),
  stateHash: `hash-${randomUUID()}`,
  linkId,
  connectionId: null,
  codeVerifierEnc: 'ol1.k.verifier',
  nonce: 'n-1',
  redirectUri: 'https://outlink.example/oauth2/callback/abc',
  sessionHash: null,
  actor: 'user:admin',
  actorKind: 'user',
  actorId: 'u-1',
  startHash: null,
  authorizationUrlEnc: null,
  accountLabel: null,
  expiresAt: '2026-01-01T00:10:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

for (const dialect of Dialects) {
  describe(`authorization flow repository on ${dialect}`, () => {
    it('starts a flow pending and reads it back as it was written', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const flows = createAuthorizationFlowRepository(store.db);
        const flow = newFlow(await insertLink(store), { accountLabel: 'shared@example.com' });
        await flows.insert(flow);
        assert.deepEqual(await flows.findById(flow.id), {
          ...flow,
          status: 'pending',
          resultConnectionId: null,
          error: null,
          completedAt: null,
          bindingHash: null,
          startedAt: null,
        });
        assert.equal(await flows.findById(randomUUID()), undefined);
      });
    });

    it('opens a start URL once, binding the flow, and never after its expiry (issue 11)', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const flows = createAuthorizationFlowRepository(store.db);
        const linkId = await insertLink(store);
        const flow = newFlow(linkId, { startHash: 'start-1', authorizationUrlEnc: 'ol1.k.url' });
        await flows.insert(flow);
        const before = '2026-01-01T00:01:00.000Z';
        assert.equal(await flows.claimStart('start-unknown', 'bind-1', before), undefined);
        const opened = await flows.claimStart('start-1', 'bind-1', before);
        assert.equal(opened?.id, flow.id);
        assert.equal(opened?.bindingHash, 'bind-1');
        assert.equal(opened?.startedAt, before);
        assert.equal(
          await flows.claimStart('start-1', 'bind-2', before),
          undefined,
          'opened twice',
        );
        assert.equal((await flows.findById(flow.id))?.bindingHash, 'bind-1');
        const late = newFlow(linkId, { startHash: 'start-2' });
        await flows.insert(late);
        assert.equal(await flows.claimStart('start-2', 'bind-3', late.expiresAt), undefined);
      });
    });

    it('hands a pending flow to the first claim of its state only', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const flows = createAuthorizationFlowRepository(store.db);
        const flow = newFlow(await insertLink(store));
        await flows.insert(flow);
        assert.equal(await flows.claimPending('hash-of-no-flow'), undefined);
        const claimed = await flows.claimPending(flow.stateHash);
        assert.equal(claimed?.id, flow.id);
        assert.equal(claimed?.status, 'exchanging');
        assert.equal(await flows.claimPending(flow.stateHash), undefined, 'claimed twice');
        assert.equal((await flows.findById(flow.id))?.status, 'exchanging');
      });
    });

    it('lets exactly one of many concurrent claims, from two processes, win', async () => {
      await withRepositoryWorld(dialect, async ({ store, second }) => {
        const linkId = await insertLink(store);
        const mine = createAuthorizationFlowRepository(store.db);
        const theirs = createAuthorizationFlowRepository(second().db);
        for (let round = 0; round < 5; round += 1) {
          const flow = newFlow(linkId);
          await mine.insert(flow);
          const claims = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              (i % 2 ? theirs : mine).claimPending(flow.stateHash),
            ),
          );
          assert.equal(claims.filter((c) => c !== undefined).length, 1, `round ${round}`);
        }
      });
    });

    it('records an outcome, and a finished flow cannot be claimed again', async () => {
      await withRepositoryWorld(dialect, async ({ store }) => {
        const flows = createAuthorizationFlowRepository(store.db);
        const linkId = await insertLink(store);
        const failed = newFlow(linkId);
        const succeeded = newFlow(linkId);
        await flows.insert(failed);
        await flows.insert(succeeded);
        const error = { id: 'access_denied', error: 'access_denied', description: 'No.' };
        await flows.markFailed(failed.id, error, '2026-01-01T00:01:00.000Z');
        const connectionId = randomUUID();
        await flows.markSucceeded(succeeded.id, connectionId, '2026-01-01T00:02:00.000Z');

        const f = await flows.findById(failed.id);
        assert.equal(f?.status, 'failed');
        assert.deepEqual(f?.error, error);
        assert.equal(f?.completedAt, '2026-01-01T00:01:00.000Z');
        const s = await flows.findById(succeeded.id);
        assert.equal(s?.status, 'succeeded');
        assert.equal(s?.resultConnectionId, connectionId);
        assert.equal(s?.error, null);
        assert.equal(await flows.claimPending(failed.stateHash), undefined);
        assert.equal(await flows.claimPending(succeeded.stateHash), undefined);
      });
    });
  });
}
