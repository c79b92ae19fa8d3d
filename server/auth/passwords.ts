// Passwords are stored with scrypt from node:crypto (OpenSSL's implementation), never plain,
// as `scrypt$N$r$p$salt$key`: the parameters travel with each hash, so raising them later
// leaves old hashes verifiable, and a successful sign-in rehashes them (needsRehash).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number, options: object) => Promise<Buffer>;

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/** OWASP's current minimum for scrypt (Password Storage Cheat Sheet): N = 2^17, r = 8, p = 1. */
export const passwordParameters: Readonly<ScryptParameters> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

// One hash at these parameters holds 128 MiB (128·N·r bytes) for ~0.2-0.7 s of a libuv thread.
// Two at a time bound the memory a burst of sign-ins can take and leave the pool's other
// threads to the file system (artifact streams); the rest wait their turn here.
const concurrentHashes = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function derive(password: string, salt: Buffer, length: number, parameters: ScryptParameters): Promise<Buffer> {
  if (running >= concurrentHashes) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    // node:crypto refuses above maxmem (32 MiB by default): give it what these parameters need.
    return await scryptAsync(password, salt, length, { ...parameters, maxmem: 256 * parameters.N * parameters.r });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = passwordParameters;
  const key = await derive(password, salt, 32, passwordParameters);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  parameters: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

// Parameters a stored hash may carry: at least the old default (2^14), at most 2^20, so that a
// damaged row cannot make one sign-in take gigabytes.
function parseHash(stored: string | null | undefined): ParsedHash | null {
  const [scheme, n, r, p, salt, key, extra] = (stored ?? '').split('$');
  if (scheme !== 'scrypt' || !salt || !key || extra !== undefined) return null;
  const parameters = { N: Number(n), r: Number(r), p: Number(p) };
  const log2 = Math.log2(parameters.N);
  if (!Number.isInteger(log2) || log2 < 10 || log2 > 20) return null;
  if (!Number.isInteger(parameters.r) || parameters.r < 1 || parameters.r > 32) return null;
  if (!Number.isInteger(parameters.p) || parameters.p < 1 || parameters.p > 16) return null;
  const parsed = { parameters, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
  return parsed.key.length >= 16 && parsed.salt.length >= 8 ? parsed : null;
}

// What an unknown user name, a user without a password or a damaged hash is checked against:
// one derivation at the current parameters, as for a real user, so that the answer's timing
// does not tell which user names exist. Its key is random: no password matches it.
const dummy: ParsedHash = { parameters: passwordParameters, salt: randomBytes(16), key: randomBytes(32) };

/**
 * True when `password` matches `stored`. Always derives once, even when there is nothing to
 * compare with (`stored` null or malformed), so that it takes as long either way.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = parseHash(stored);
  const against = parsed ?? dummy;
  const actual = await derive(password, against.salt, against.key.length, against.parameters);
  return timingSafeEqual(actual, against.key) && parsed !== null;
}

/** True when `stored` was made with other parameters than today's: rehash it once the password is known. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  const { N, r, p } = parsed.parameters;
  return N !== passwordParameters.N || r !== passwordParameters.r || p !== passwordParameters.p;
}
