// Multipart bodies (release uploads, diagnostics bundles). @fastify/multipart parses them with
// busboy, which reports a client's broken framing (no boundary, a body cut short) as plain
// Errors without a code; left alone they reached the error handler as 500s, and a 5xx is a bug
// (DESIGN.md, HTTP API). Here they become bad_request. Coded errors (the parser's limits, the
// file system, SluiceError) keep their own meaning.
import type { FastifyRequest } from 'fastify';
import { SluiceError } from '../errors.js';

// RFC 2046 §5.1.1: a boundary is 1 to 70 characters; busboy throws on a missing or long one.
const boundaryParameter = /;\s*boundary=(?:"[^"]{1,70}"|[^\s;"]{1,70})\s*(?:;|$)/i;

/** Refuses, before any parsing, a body that is not multipart or has no usable boundary. */
export function requireMultipart(request: FastifyRequest, expected: string): void {
  if (!request.isMultipart()) throw new SluiceError('bad_request', `send multipart/form-data with ${expected}`);
  if (!boundaryParameter.test(request.headers['content-type'] ?? '')) {
    throw new SluiceError('bad_request', 'the multipart Content-Type needs a boundary of 1 to 70 characters (RFC 2046)');
  }
}

/** The answer a multipart parse failure deserves: bad_request for busboy's framing errors. */
export function multipartError(error: unknown): unknown {
  const framing = error instanceof Error && (error as { code?: unknown }).code === undefined && /multipart/i.test(error.message);
  return framing ? new SluiceError('bad_request', `the multipart body is malformed: ${error.message}`) : error;
}
