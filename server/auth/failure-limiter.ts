// Slows down token guessing on the API: an address that presented unknown tokens too often
// within a sliding window is refused (429) until the oldest failure leaves the window. Tokens
// are 256-bit random, so this is about log noise and load more than about odds.
// It lives in memory per process (DESIGN.md: caches that can be lost): a restart forgets it,
// and behind a load balancer each process counts on its own, which only loosens the limit.
// Devices behind one customer NAT share an address, so the limit is generous: a revoked
// device polling every few minutes never reaches it; a guessing loop does within seconds.
// Only unknown tokens are counted and refused: a valid token is looked up first and always
// served, so an attacker's guesses from a shared address never lock out its devices.
import { isIPv6 } from 'node:net';
export interface FailureLimiterOptions {
  maximumFailures: number;
  windowSeconds: number;
  /** Bounds the memory an attacker with many addresses can make it hold. */
  maximumAddresses: number;
}

export const defaultFailureLimits: FailureLimiterOptions = { maximumFailures: 20, windowSeconds: 60, maximumAddresses: 10_000 };

export interface FailureLimiter {
  /** Seconds until `address` may try again; 0 when it may now. */
  retryAfter(address: string, nowMs: number): number;
  record(address: string, nowMs: number): void;
}

export function createFailureLimiter(options: FailureLimiterOptions = defaultFailureLimits): FailureLimiter {
  // Insertion order doubles as recency: a recorded address is moved to the end, and the
  // first entry is the one evicted when the table is full.
  const failures = new Map<string, number[]>();
  const windowMs = options.windowSeconds * 1000;
  const recent = (address: string, nowMs: number) => (failures.get(address) ?? []).filter((at) => at > nowMs - windowMs);

  return {
    retryAfter(address, nowMs) {
      const times = recent(address, nowMs);
      if (times.length < options.maximumFailures) return 0;
      return Math.max(1, Math.ceil((times[times.length - options.maximumFailures] + windowMs - nowMs) / 1000));
    },
    record(address, nowMs) {
      const times = [...recent(address, nowMs), nowMs].slice(-options.maximumFailures);
      failures.delete(address);
      failures.set(address, times);
      while (failures.size > options.maximumAddresses) failures.delete(failures.keys().next().value!);
    },
  };
}

/**
 * What the limit counts by: the address itself for IPv4, its /64 for IPv6, where one host
 * (one customer site) is routinely given a whole /64 and could otherwise try from 2^64
 * addresses. An IPv4 address written as IPv6 (::ffff:a.b.c.d) counts as the IPv4 one.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail] = address.toLowerCase().split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
