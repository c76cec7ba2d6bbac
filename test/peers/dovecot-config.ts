import { randomBytes } from 'node:crypto';
import type { DovecotIntrospection, DovecotMechanism, DovecotPorts } from './dovecot.js';

/** The configuration files test/peers/dovecot.ts writes for one Dovecot run (PEERS.md). */

/** The `hostname` setting, seen in greetings. */
export const HOSTNAME = 'mail.example.test';

/** `dovecot-oauth2.conf.ext`: the oauth2 passdb's introspection settings (PEERS.md). */
export function oauth2Config(introspection: DovecotIntrospection, caFile: string): string {
  const lines = [
    `introspection_url = ${introspection.url}`,
    // POSTs token=…&client_id=…&client_secret=…: the AS client uses client_secret_post.
    'introspection_mode = post',
    `client_id = ${introspection.clientId}`,
    `client_secret = ${introspection.clientSecret}`,
    'username_attribute = email',
    'active_attribute = active',
    'active_value = true',
    // The global ssl_client_ca_file is not used by the oauth2 passdb (PEERS.md).
    `tls_ca_cert_file = ${caFile}`,
    'timeout_msecs = 5000',
  ];
  if (introspection.openidConfigurationUrl) {
    lines.push(`openid_configuration_url = ${introspection.openidConfigurationUrl}`);
  }
  if (introspection.scope) lines.push(`scope = ${introspection.scope}`);
  return `${lines.join('\n')}\n`;
}

export interface ConfigInput {
  readonly dir: string;
  readonly mailRoot: string;
  readonly ports: DovecotPorts;
  readonly relayPort: number;
  readonly mechanisms: readonly DovecotMechanism[];
  readonly files: { oauth2: string; cert: string; key: string; log: string; passwd: string };
  readonly tls: boolean;
  readonly passwords: boolean;
}

/** `dovecot.conf` for one run: PEERS.md's settings, every listener on its given port. */
export function dovecotConfig(c: ConfigInput): string {
  const mechanisms = c.mechanisms.join(' ');
  // USER/PASS reaches the auth server as PLAIN, so PLAIN must be an auth mechanism too.
  const authMechanisms = c.passwords ? `plain ${mechanisms}` : mechanisms;
  const passwordPassdb = c.passwords
    ? `passdb {
  driver = passwd-file
  mechanisms = plain
  args = scheme=PLAIN username_format=%Lu ${c.files.passwd}
}
`
    : '';
  const ssl = c.tls
    ? [
        'ssl = yes',
        `ssl_cert = <${c.files.cert}`,
        `ssl_key = <${c.files.key}`,
        'ssl_min_protocol = TLSv1.2',
      ]
    : ['ssl = no'];
  const listener = (name: string, port: number | undefined, tls = false) =>
    port === undefined
      ? `  inet_listener ${name} {\n    port = 0\n  }`
      : `  inet_listener ${name} {\n    address = 127.0.0.1\n    port = ${port}\n${tls ? '    ssl = yes\n' : ''}  }`;
  return `# Written by test/peers/dovecot.ts for one test run (PEERS.md).
protocols = imap pop3 submission
listen = 127.0.0.1
base_dir = ${c.dir}/run
state_dir = ${c.dir}/state
instance_name = outlink-test-${randomBytes(4).toString('hex')}
log_path = ${c.files.log}
auth_verbose = yes
${ssl.join('\n')}
disable_plaintext_auth = no
auth_mechanisms = ${authMechanisms}
auth_failure_delay = 0
${passwordPassdb}passdb {
  driver = oauth2
  mechanisms = ${mechanisms}
  args = ${c.files.oauth2}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${c.mailRoot}/%Lu
}
mail_location = maildir:~/Maildir
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
${listener('imap', c.ports.imap)}
${listener('imaps', c.ports.imaps, true)}
}
service pop3-login {
${listener('pop3', c.ports.pop3)}
${listener('pop3s', c.ports.pop3s, true)}
}
service submission-login {
${listener('submission', c.ports.submission)}
${listener('submissions', c.ports.submissions, true)}
}
hostname = ${HOSTNAME}
submission_relay_host = 127.0.0.1
submission_relay_port = ${c.relayPort}
submission_relay_ssl = no
`;
}

/** The passwd-file of the mailboxes that also log in with a password. */
export function passwdFile(users: readonly { user: string; password: string }[]): string {
  return users
    .map(({ user, password }) => `${user.toLowerCase()}:{PLAIN}${password}::::::\n`)
    .join('');
}
