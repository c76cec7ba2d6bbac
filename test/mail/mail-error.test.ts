import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlinkError } from '../../src/domain/errors.js';
import { translate } from '../../src/i18n/i18n.js';
import { asOutlinkError, MailError, type MailErrorDetails } from '../../src/mail/mail-error.js';
import type { MailProtocol } from '../../src/providers/types.js';

const refusal = (protocol: MailProtocol, details: MailErrorDetails) =>
  new MailError('auth_failed', 'authentication', protocol, 'refused', details);

describe('a mail failure as a catalog error (for API answers)', () => {
  it('502 mail_server_failed, or 503 mail_server_unavailable when it may pass', () => {
    const refused = asOutlinkError(refusal('imap', {}), 'Support');
    assert.ok(refused instanceof OutlinkError);
    assert.equal(refused.code, 'mail_server_failed');
    assert.equal(refused.status, 502);
    assert.equal(
      translate('en', 'errors.mail_server_failed.message', refused.params),
      'The mail server Support failed at the step "authentication" (auth_failed): refused',
    );
    const slow = asOutlinkError(
      new MailError('timeout', 'greeting', 'pop3', 'no greeting in 15000 ms'),
      'Support',
    );
    assert.ok(slow instanceof OutlinkError);
    assert.equal(slow.code, 'mail_server_unavailable');
    assert.equal(slow.status, 503);
    const other = new Error('not a mail error');
    assert.equal(asOutlinkError(other, 'Support'), other);
  });
});
