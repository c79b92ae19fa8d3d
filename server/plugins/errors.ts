// The one place that turns an error into an HTTP response (STYLE.md: one error handler).
// Body shape (docs/errors.md): { error: { code, message } }. A 5xx is a bug: logged loudly.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SluiceError, errorStatus, type ErrorCode } from '../errors.js';

// The tables below are exported for test/contract/error-catalogue.test.ts: every code they
// answer with must be in the catalogue, and they keep codes in use that nothing else throws.

/** fastify's and its plugins' own codes, mapped onto the catalogue (which gives the status). */
export const frameworkCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_FILES_LIMIT: 'bad_request',
  FST_PARTS_LIMIT: 'bad_request',
  FST_FIELDS_LIMIT: 'bad_request',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'bad_request',
  FST_INVALID_JSON_FIELD_ERROR: 'bad_request',
  FST_MP_PREMATURE_CLOSE: 'bad_request',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_PROTO_VIOLATION: 'bad_request',
  FST_ERR_BAD_URL: 'bad_request',
};

/** The catalogue's general code for a client-error status that no mapping above names. */
export const genericCodes: Readonly<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  429: 'rate_limited',
};

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ?? {}) } };
}

/** Why Node's HTTP parser refused a request, by its error code. */
export const parserRefusals: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  HPE_HEADER_OVERFLOW: { code: 'header_too_large', message: "the request headers exceed the server's limit" },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'the request did not arrive in time' },
};

/**
 * fastify's `clientErrorHandler` (wired in buildApp): requests that Node's HTTP parser refuses
 * before any route sees them (headers over the limit, broken framing, a request that never
 * finished) are answered in the API's error shape too, instead of fastify's own.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = parserRefusals[error.code ?? ''] ?? { code: 'bad_request' as const, message: 'the request is not valid HTTP/1.1' };
  const status = errorStatus[refusal.code];
  const body = JSON.stringify(errorBody(refusal.code, refusal.message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** URLs fastify's router refuses before any route: bad percent-encoding, a parameter too long. */
export const routerRefusals: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
};

/** fastify's `frameworkErrors` (wired in buildApp): the router's refusals in the API's error shape. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const code = routerRefusals[error.code];
  if (code) {
    reply.status(errorStatus[code]).send(errorBody(code, error.message));
    return;
  }
  request.log.error({ err: error }, 'router error: this is a bug');
  reply.status(500).send(errorBody('internal_error', 'internal error'));
}

export default fp(async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | SluiceError, request, reply) => {
    if (error instanceof SluiceError) {
      // RFC 9110 §15.5.17: a 416 names the current length, so the client can ask again.
      if (error.code === 'range_not_satisfiable' && typeof error.details?.size === 'number')
        reply.header('Content-Range', `bytes */${error.details.size}`);
      if (error.code === 'rate_limited' && typeof error.details?.retryAfterSeconds === 'number')
        reply.header('Retry-After', String(error.details.retryAfterSeconds));
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    if ((error as FastifyError).validation) {
      // The same code as the domain's own checks (server/errors.ts): a client need not tell them apart.
      return reply.status(errorStatus.validation_failed).send(errorBody('validation_failed', error.message));
    }
    const mapped = error.code ? frameworkCodes[error.code] : undefined;
    if (mapped) return reply.status(errorStatus[mapped]).send(errorBody(mapped, error.message));
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      // Any other client error gets the catalogue's code for its status, and that code's status.
      const code = genericCodes[status] ?? 'bad_request';
      return reply.status(errorStatus[code]).send(errorBody(code, error.message));
    }
    request.log.error({ err: error }, 'unhandled error: this is a bug');
    return reply.status(500).send(errorBody('internal_error', 'internal error'));
  });
  // Node answers an Expect other than 100-continue with a bare 417 of its own, before any
  // route runs (RFC 9110 §10.1.1); answer it in the API's error shape instead.
  app.server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(errorBody('expectation_failed', 'the only expectation this server meets is 100-continue'));
    response
      .writeHead(errorStatus.expectation_failed, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      })
      .end(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
});
