// HTTP Range parsing for artifact downloads (RFC 9110 §14). Pure.
import { SluiceError } from '../errors.js';

export type RangeRequest = { kind: 'full' } | { kind: 'partial'; start: number; end: number };

/**
 * One byte range is served as 206. Several ranges are answered with the whole file (RFC 9110
 * lets a server ignore Range), because update clients only ever resume from one offset.
 * A syntactically broken header is ignored too, as the RFC asks; an unsatisfiable one is 416.
 * Positions of any length are compared as numbers: a last position past the end, however many
 * digits it has (or leading zeros), is clamped to the end (§14.1.2), not refused; every size is
 * far below 2^53, so rounding of huge positions never changes a comparison with it.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'full' };
  // Range unit names are case-insensitive (RFC 9110 §14.1).
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' };
  const [, first, last] = match;
  if (first === '') {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (length === 0 || size === 0) throw unsatisfiable(size);
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) throw unsatisfiable(size);
  return { kind: 'partial', start, end };
}

function unsatisfiable(size: number): SluiceError {
  return new SluiceError('range_not_satisfiable', `requested range is outside the artifact (${size} bytes)`, { size });
}
