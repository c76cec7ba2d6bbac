import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import type { LinkView } from '../../src/schemas/links.js';
import { createTestDatabase, Dialects, type TestDatabase } from '../support/harness.js';
import {
  type CliResult,
  databaseEnv,
  errorCode,
  runCli,
  runInProcess,
  servicesFor,
} from './cli-harness.js';

const FILE_SECRET = 'GOCSPX-cli-file-marker-7f3a';
const STDIN_SECRET = 'custom-cli-stdin-marker-91b2';
const NEW_SECRET = 'GOCSPX-cli-rotated-marker-c44d';
const SECRETS = [FILE_SECRET, STDIN_SECRET, NEW_SECRET];

type LinkJson = LinkView & { warnings: { code: string; message: string }[] };

function succeeded(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  for (const secret of SECRETS) {
    assert.ok(!result.stdout.includes(secret), 'a secret reached stdout');
    assert.ok(!result.stderr.includes(secret), 'a secret reached stderr');
  }
}

function failedWith(result: CliResult, code: string, message?: string): void {
  assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
  assert.equal(errorCode(result), code, result.stderr);
  assert.match(result.stderr, /^remedy: \S/m);
  if (message) assert.ok(result.stderr.split('\n')[0]!.endsWith(message), result.stderr);
  assert.equal(result.stdout, '');
}

describe('outlink links', { concurrency: true }, () => {
  for (const dialect of Dialects) {
    describe(dialect, { concurrency: 1 }, () => {
      let database: TestDatabase;
      let env: Record<string, string>;
      before(async () => {
        database = await createTestDatabase(dialect);
        env = databaseEnv(database);
      });
      after(() => database.drop());

      test('create, list, show, update and delete round-trip', async () => {
        const secretFile = join(database.dataDir, 'client-secret.txt');
        writeFileSync(secretFile, `${FILE_SECRET}\n`, { mode: 0o600 });
        const google = await runCli(
          [
            'links',
            'create',
            '--name',
            'Support mailbox',
            '--provider',
            'google',
            '--client-id',
            '123-abc.apps.googleusercontent.com',
            '--client-secret-file',
            secretFile,
            '--scope',
            'https://mail.google.com',
            '--json',
          ],
          { env },
        );
        succeeded(google);
        const created = JSON.parse(google.stdout) as LinkJson;
        assert.equal(created.name, 'Support mailbox');
        assert.equal(created.provider, 'google');
        assert.equal(created.clientSecretSet, true);
        assert.ok(!('clientSecret' in created));
        assert.deepEqual(created.scopes, ['https://mail.google.com/']);
        assert.deepEqual(
          created.warnings.map((w) => w.code),
          ['scope_normalized'],
        );
        assert.match(
          created.redirectUrl,
          /^https:\/\/localhost:8443\/oauth2\/callback\/[\w-]{22}$/,
        );
        assert.match(
          google.stderr,
          /^warning scope_normalized: The scope https:\/\/mail\.google\.com /m,
        );

        const customRun = await runCli(
          [
            'links',
            'create',
            '--name',
            'Custom IdP',
            '--description',
            'Our own authorization server',
            '--provider',
            'custom',
            '--client-id',
            'outlink',
            '--client-secret-stdin',
            '--authorization-endpoint',
            'https://idp.example.test/authorize',
            '--token-endpoint',
            'https://idp.example.test/token',
            '--scope',
            'imap',
            '--scope',
            ' smtp ',
            '--scope',
            'imap',
            '--client-auth-method',
            'client_secret_basic',
            '--client-secret-expires-at',
            '2099-01-31T00:00:00Z',
            '--json',
          ],
          { env, input: `${STDIN_SECRET}\n` },
        );
        succeeded(customRun);
        const custom = JSON.parse(customRun.stdout) as LinkJson;
        assert.deepEqual(custom.scopes, ['imap', 'smtp']);
        assert.equal(custom.clientAuthMethod, 'client_secret_basic');
        assert.equal(custom.clientSecretExpiresAt, '2099-01-31T00:00:00Z');
        assert.equal(custom.description, 'Our own authorization server');
        assert.deepEqual(custom.warnings, []);

        const listed = await runCli(['links', 'list', '--json'], { env });
        succeeded(listed);
        const { items } = JSON.parse(listed.stdout) as { items: LinkView[] };
        assert.deepEqual(
          items.map((l) => [l.name, l.id]),
          [
            ['Custom IdP', custom.id],
            ['Support mailbox', created.id],
          ],
        );
        const { warnings: _w, ...view } = created;
        assert.deepEqual(items[1], view);

        const table = await runInProcess(['links', 'list'], { env });
        succeeded(table);
        const [header, ...rows] = table.stdout.trimEnd().split('\n');
        assert.match(header!, /^NAME +PROVIDER +CLIENT ID +CONNECTIONS +ID$/);
        assert.match(
          rows[1]!,
          new RegExp(`^Support mailbox +google +123-abc\\S+ +0 +${created.id}$`),
        );

        // By name, whatever its case.
        const shown = await runCli(['links', 'show', 'support MAILBOX'], { env });
        succeeded(shown);
        assert.match(shown.stdout, new RegExp(`^Redirect URL +${created.redirectUrl}$`, 'm'));
        assert.match(shown.stdout, /^Client secret +set \(write-only\)$/m);
        assert.match(shown.stdout, new RegExp(`^ID +${created.id}$`, 'm'));

        const updatedRun = await runCli(
          [
            'links',
            'update',
            created.id,
            '--description',
            'Mail for support@',
            '--client-secret-stdin',
            '--client-secret-expires-at',
            'none',
            '--json',
          ],
          { env, input: NEW_SECRET },
        );
        succeeded(updatedRun);
        const updated = JSON.parse(updatedRun.stdout) as LinkJson;
        assert.equal(updated.description, 'Mail for support@');
        assert.equal(updated.clientSecretExpiresAt, null);
        assert.deepEqual(updated.scopes, ['https://mail.google.com/']);
        assert.deepEqual(updated.warnings, []);

        const deleted = await runCli(['links', 'delete', 'Custom IdP'], { env });
        succeeded(deleted);
        assert.equal(
          deleted.stdout,
          `Deleted link "Custom IdP" (${custom.id}) and its connections.\nThere was no grant to revoke at the provider.\n`,
        );
        const gone = await runInProcess(['links', 'show', custom.id, '--json'], { env });
        failedWith(gone, 'link_not_found', `There is no application link ${custom.id}.`);

        const services = await servicesFor(database);
        try {
          assert.equal(await services.links.clientSecret(created.id), NEW_SECRET);
          const { items: events } = await services.events.list({ limit: 50 });
          assert.deepEqual(
            events.filter((e) => e.type.startsWith('link.')).map((e) => [e.type, e.actor]),
            [
              ['link.deleted', 'cli'],
              ['link.updated', 'cli'],
              ['link.created', 'cli'],
              ['link.created', 'cli'],
            ],
          );
          const recorded = JSON.stringify(events);
          for (const secret of SECRETS) assert.ok(!recorded.includes(secret));

          // --json prints what the REST API answers.
          const app = await buildApp(services);
          try {
            const { token } = await services.apiTokens.create(
              { kind: 'system' },
              { name: 'check' },
            );
            const api = await app.inject({
              method: 'GET',
              url: '/api/v1/links',
              headers: { authorization: `Bearer ${token}` },
            });
            assert.equal(api.statusCode, 200);
            const cli = await runInProcess(['links', 'list', '--json'], { env });
            assert.deepEqual(JSON.parse(cli.stdout), api.json());
          } finally {
            await app.close();
          }
        } finally {
          await services.close();
        }
      });

      test('bad values exit 1 with the catalog code and change nothing', async () => {
        const snapshot = async () => {
          const services = await servicesFor(database);
          try {
            return {
              links: await services.links.list({ limit: 100 }),
              events: (await services.events.list({ limit: 100 })).items.length,
            };
          } finally {
            await services.close();
          }
        };
        const before = await snapshot();
        assert.equal(before.links.items.length, 1);
        const google = ['--provider', 'google', '--client-id', 'id', '--client-secret', 's3cret'];
        // On SQLite two spawned runs prove the exit code of the entry point; everything else
        // runs in-process, where a run costs milliseconds instead of a second.
        const run = dialect === 'sqlite' ? runCli : runInProcess;
        const [taken, unknownProvider] = await Promise.all([
          run(['links', 'create', '--name', 'SUPPORT MAILBOX', ...google], { env }),
          run(
            [
              'links',
              'create',
              '--name',
              'x',
              '--provider',
              'outlook',
              '--client-id',
              'i',
              '--client-secret',
              's',
            ],
            { env },
          ),
        ]);
        failedWith(
          taken,
          'link_name_taken',
          'An application link named "SUPPORT MAILBOX" already exists.',
        );
        failedWith(
          unknownProvider,
          'unknown_provider',
          '"outlook" is not a known service provider.',
        );

        const cases: [string[], string, string?][] = [
          [
            [
              'links',
              'create',
              '--name',
              'Plain',
              '--provider',
              'custom',
              '--client-id',
              'i',
              '--client-secret',
              's',
              '--authorization-endpoint',
              'http://idp.example.test/a',
              '--token-endpoint',
              'https://idp.example.test/t',
            ],
            'endpoint_not_https',
            'The --authorization-endpoint must be an https:// URL.',
          ],
          [
            [
              'links',
              'create',
              '--name',
              'Half',
              '--provider',
              'custom',
              '--client-id',
              'i',
              '--client-secret',
              's',
              '--token-endpoint',
              'https://idp.example.test/t',
            ],
            'endpoints_required',
          ],
          [
            ['links', 'create', '--name', 'No id', '--provider', 'google', '--client-secret', 's'],
            'field_required',
            'The field "--client-id" is required.',
          ],
          [
            ['links', 'create', '--name', 'x'.repeat(101), ...google],
            'field_too_long',
            'The field "--name" is longer than 100 characters.',
          ],
          [
            ['links', 'create', '--name', 'Empty', ...google, '--scope', ''],
            'field_empty',
            'The field "--scope" must not be empty.',
          ],
          [
            [
              'links',
              'create',
              '--name',
              'Date',
              ...google,
              '--client-secret-expires-at',
              'tomorrow',
            ],
            'field_invalid',
          ],
          [
            ['links', 'create', '--name', 'Tenant', ...google, '--tenant', 'contoso.com'],
            'field_not_applicable',
            'The field "--tenant" does not apply to the google provider.',
          ],
          [
            [
              'links',
              'create',
              '--name',
              'Cloud',
              '--provider',
              'microsoft',
              '--client-id',
              'i',
              '--client-secret',
              's',
              '--cloud',
              'moon',
            ],
            'field_invalid',
          ],
          [
            [
              'links',
              'create',
              '--name',
              'File',
              '--provider',
              'google',
              '--client-id',
              'i',
              '--client-secret-file',
              join(database.dataDir, 'missing.txt'),
            ],
            'secret_file_unreadable',
          ],
          [['links', 'update', 'Support mailbox', '--provider', 'microsoft'], 'provider_immutable'],
          [['links', 'update', 'Support mailbox', '--name', ' '], 'field_invalid'],
          [['links', 'update', 'No such link', '--description', 'x'], 'link_not_found'],
          [['links', 'delete', 'No such link'], 'link_not_found'],
        ];
        for (const [args, code, message] of cases) {
          failedWith(await runInProcess(args, { env }), code, message);
        }

        const after = await snapshot();
        assert.deepEqual(after, before);
      });
    });
  }
});
