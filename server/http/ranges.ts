// HTTP Range parsing for artifact downloads (RFC 9110 §14). Pure.
import { SluiceError } from '../errors.js';

export type RangeRequest = { kind: 'full' } | { kind: 'partial'; start: number; end: number };

/**
 * One byte range is served as 206. Several ranges are answered with the whole file (RFC 9110
 * lets a server ignore Range), because update clients only ever resume from one offset.
 * A syntactically broken header is ignored too, as the RFC asks; an unsatisfiable one is 416.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'full' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' };
  const [, first, last] = match;
  if (first.length > 15 || last.length > 15) throw unsatisfiable(size);
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
