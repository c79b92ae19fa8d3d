// Slows down token guessing on the API: an address that presented unknown tokens too often
// within a sliding window is refused (429) until the oldest failure leaves the window. Tokens
// are 256-bit random, so this is about log noise and load more than about odds.
// It lives in memory per process (DESIGN.md: caches that can be lost): a restart forgets it,
// and behind a load balancer each process counts on its own, which only loosens the limit.
// Devices behind one customer NAT share an address, so the limit is generous: a revoked
// device polling every few minutes never reaches it; a guessing loop does within seconds.
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
