/**
 * How the SMTP session's failures become `MailError`s: nodemailer's errors (codes `ETLS`,
 * `ETIMEDOUT`, `EAUTH`, …) and the replies Outlink's own SASL handlers read, each mapped to
 * the step it broke in and the code a connection test reports.
 */

import { MailError, MailErrorCodes, type MailErrorDetails } from './mail-error.js';
import type { ErrorChallengeResult, SaslMechanism } from './sasl.js';
import type { SocketTarget } from './socket.js';

/** A refusal or temporary failure of `AUTH` (RFC 4954 §6), with the decoded challenge. */
export function authFailure(
  target: SocketTarget,
  mechanism: SaslMechanism,
  reply: { response: string; status: number; code?: string; text: string },
  challenge: ErrorChallengeResult | undefined,
): MailError {
  // RFC 4954 §6: 454 is "temporary authentication failure", 535 a refusal.
  const temporary = reply.status >= 400 && reply.status < 500;
  const responseCode = [String(reply.status), reply.code].filter(Boolean).join(' ');
  const details: MailErrorDetails = {
    serverText: reply.text.trim(),
    responseCode,
    mechanism,
    ...(challenge?.ok ? { challenge: challenge.challenge } : {}),
    ...(challenge && !challenge.ok ? { challengeError: challenge.error } : {}),
  };
  return new MailError(
    temporary ? MailErrorCodes.AUTH_TEMPORARY : MailErrorCodes.AUTH_FAILED,
    'authentication',
    'smtp',
    `${mechanism} authentication at ${target.endpoint.host} ${temporary ? 'failed temporarily' : 'failed'}: ${reply.response.trim()}`,
    details,
  );
}

interface NodemailerError {
  message?: string;
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  timeoutType?: string;
}

/** A failure before authentication: TLS (implicit or STARTTLS), the greeting, EHLO. */
export function greetingFailure(
  target: SocketTarget,
  error: unknown,
  upgrading: boolean,
): MailError {
  if (error instanceof MailError) return error;
  const { host, port, security } = target.endpoint;
  const e = error as NodemailerError;
  const server = {
    ...(e.response ? { serverText: e.response.trim() } : {}),
    ...(e.responseCode ? { responseCode: String(e.responseCode) } : {}),
    cause: error,
  };
  if (e.code === 'ETLS' || upgrading || (security === 'starttls' && e.command === 'STARTTLS')) {
    const refused = e.response !== undefined && e.command === 'STARTTLS';
    return new MailError(
      refused ? MailErrorCodes.STARTTLS_UNAVAILABLE : MailErrorCodes.TLS_FAILED,
      'tls',
      'smtp',
      refused
        ? `${host}:${port} refused STARTTLS (RFC 3207): ${e.response?.trim()}; TLS is required`
        : `TLS with ${host}:${port} failed: ${(e.message ?? '').replace(/^Error initiating TLS - /, '')}`,
      server,
    );
  }
  if (e.code === 'ETIMEDOUT') {
    return new MailError(
      MailErrorCodes.TIMEOUT,
      'greeting',
      'smtp',
      `${host}:${port} did not greet in time: ${e.message}`,
      server,
    );
  }
  return new MailError(
    e.code === 'EPROTOCOL' ? MailErrorCodes.GREETING_FAILED : MailErrorCodes.CONNECTION_CLOSED,
    'greeting',
    'smtp',
    `${host}:${port} (greeting): ${e.message ?? String(error)}`,
    server,
  );
}

/** A failure while authenticating or sending, as nodemailer reports it. */
export function operationFailure(
  target: SocketTarget,
  step: 'authentication' | 'send',
  error: Error,
): MailError {
  if (error instanceof MailError) return error;
  const { host, port } = target.endpoint;
  const e = error as NodemailerError;
  const server = {
    ...(e.response ? { serverText: e.response.trim() } : {}),
    ...(e.responseCode ? { responseCode: String(e.responseCode) } : {}),
    cause: error,
  };
  if (e.code === 'ETIMEDOUT') {
    return new MailError(
      MailErrorCodes.TIMEOUT,
      step,
      'smtp',
      `${host}:${port} did not answer in time (${step}): ${e.message}`,
      server,
    );
  }
  // An EAUTH without a reply code is nodemailer refusing locally (no credentials), not the server.
  if (step === 'authentication' && e.code === 'EAUTH' && e.responseCode !== undefined) {
    const temporary = e.responseCode !== undefined && e.responseCode < 500;
    return new MailError(
      temporary ? MailErrorCodes.AUTH_TEMPORARY : MailErrorCodes.AUTH_FAILED,
      step,
      'smtp',
      `authentication at ${host} failed: ${e.response?.trim() ?? e.message}`,
      server,
    );
  }
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.message === 'closed') {
    return new MailError(
      MailErrorCodes.CONNECTION_CLOSED,
      step,
      'smtp',
      `${host}:${port} closed the connection (${step})`,
      server,
    );
  }
  return new MailError(
    step === 'send' ? MailErrorCodes.SEND_FAILED : MailErrorCodes.PROTOCOL_ERROR,
    step,
    'smtp',
    `${host}:${port} (${step}): ${e.response?.trim() ?? e.message}`,
    server,
  );
}
