// The device side of the protocol (docs/device-protocol.md): check-in with a
// fresh nonce and a verified, signed, unexpired answer; root rotations; event reports.
import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { Compile } from 'typebox/compile';
import { AgentError } from './errors.js';
import type { TrustStore } from '../signing/trust-store.js';
import type { SignedDocument } from '../signing/signed.js';
import { SigningError } from '../signing/errors.js';
import type { Report, SendResult } from './outbox.js';
import { CheckinAnswer as CheckinAnswerSchema, type CheckinAnswerType, type CheckinAssignmentType } from '../protocol/checkin.js';

// The server's own schema of the answer (protocol/checkin.ts): the agent reads only what it names.
export type CheckinAssignment = CheckinAssignmentType;
export type CheckinAnswer = CheckinAnswerType;
const checkinAnswerShape = Compile(CheckinAnswerSchema);

export interface ProtocolOptions {
  server: string;
  deviceId: string;
  token: string;
  dispatcher?: Dispatcher;
  now: () => Date;
  /** The random source for nonces (STYLE.md: effects injected); node:crypto by default. */
  randomBytes?: (size: number) => Buffer;
}

async function call(options: ProtocolOptions, method: 'GET' | 'POST', path: string, body?: unknown) {
  try {
    return await request(new URL(path, options.server), {
      method,
      headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: options.dispatcher,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
  } catch (error) {
    throw new AgentError(
      'server_unreachable',
      `${method} ${path}: ${(error as Error & { code?: string }).code ?? (error as Error).message}`,
    );
  }
}

/**
 * The freeze and replay defence (DESIGN.md, "Trust model"): the answer must be signed by the
 * root's server role, carry the nonce this device just sent, name this device, and not be
 * expired by the device's own clock.
 */
export async function checkin(
  options: ProtocolOptions,
  trust: TrustStore,
  body: { version: string; state: string; assignment: string | null },
): Promise<CheckinAnswer> {
  // 32 random bytes: the answer must echo them, so a recorded answer cannot be replayed.
  const nonce = (options.randomBytes ?? randomBytes)(32).toString('hex');
  const response = await call(options, 'POST', '/api/v1/device/checkin', { ...body, nonce });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new AgentError('server_error', `check-in answered ${response.statusCode}: ${text.slice(0, 200)}`);
  return verifyCheckinAnswer(JSON.parse(text), trust, nonce, options.deviceId, options.now());
}

export function verifyCheckinAnswer(
  document: SignedDocument<unknown>,
  trust: TrustStore,
  nonce: string,
  deviceId: string,
  now: Date,
): CheckinAnswer {
  let answer: CheckinAnswer;
  try {
    answer = trust.verifyServerDocument<CheckinAnswer>(document, now);
  } catch (error) {
    if (error instanceof SigningError)
      throw new AgentError('checkin_signature_invalid', `the check-in answer does not verify: ${error.message}`);
    throw error;
  }
  if (answer.type !== 'checkin' || answer.nonce !== nonce)
    throw new AgentError('checkin_nonce_mismatch', 'the check-in answer is bound to another nonce (a replay)');
  // Signed is not the same as well formed: a field missing or of the wrong type stops here, not deep in an install.
  if (!checkinAnswerShape.Check(answer)) {
    const [first] = [...checkinAnswerShape.Errors(answer)];
    throw new AgentError(
      'checkin_malformed',
      `the check-in answer does not fit the protocol: ${first ? `${first.instancePath || '/'} ${first.message}` : 'unknown shape'}`,
    );
  }
  if (answer.deviceId !== deviceId) throw new AgentError('checkin_wrong_device', `the check-in answer is for ${answer.deviceId}`);
  if (!(Date.parse(answer.expires) > now.getTime()))
    throw new AgentError('checkin_expired', `the check-in answer expired at ${answer.expires}`);
  return answer;
}

/** Walks root rotations the server offers (GET /trust/root/N.json) into the trust store. */
export async function updateRoots(options: ProtocolOptions, trust: TrustStore): Promise<number> {
  const before = trust.root.version;
  try {
    await trust.walkRoots(async (version) => {
      const response = await call(options, 'GET', `/api/v1/trust/root/${version}.json`);
      if (response.statusCode === 404) {
        await response.body.dump();
        return null;
      }
      if (response.statusCode !== 200) throw new AgentError('server_error', `root ${version}: HTTP ${response.statusCode}`);
      return (await response.body.json()) as SignedDocument<unknown>;
    }, options.now());
  } catch (error) {
    if (error instanceof SigningError) throw new AgentError('root_invalid', `a root rotation was refused: ${error.message}`);
    throw error;
  }
  return trust.root.version - before;
}

export async function sendReport(options: ProtocolOptions, report: Report): Promise<SendResult> {
  const response = await call(options, 'POST', '/api/v1/device/events', report);
  await response.body.dump();
  if (response.statusCode >= 200 && response.statusCode < 300) return 'delivered';
  if (response.statusCode >= 400 && response.statusCode < 500 && ![401, 408, 429].includes(response.statusCode)) return 'rejected';
  return 'retry';
}
