// The one place that turns an error into an HTTP response (STYLE.md: one error handler).
// Body shape per DESIGN.md: { error: { code, message } }. A 5xx is a bug: logged loudly.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { SluiceError, errorStatus, type ErrorCode } from '../errors.js';

/** fastify's and its plugins' own codes, mapped onto the catalogue. */
const frameworkCodes: Record<string, { code: string; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', status: 413 },
  FST_REQ_FILE_TOO_LARGE: { code: 'payload_too_large', status: 413 },
  FST_FILES_LIMIT: { code: 'bad_request', status: 400 },
  FST_PARTS_LIMIT: { code: 'bad_request', status: 400 },
  FST_FIELDS_LIMIT: { code: 'bad_request', status: 400 },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'bad_request', status: 400 },
  FST_INVALID_JSON_FIELD_ERROR: { code: 'bad_request', status: 400 },
  FST_MP_PREMATURE_CLOSE: { code: 'bad_request', status: 400 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'bad_request', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'bad_request', status: 400 },
  FST_PROTO_VIOLATION: { code: 'bad_request', status: 400 },
  FST_ERR_BAD_URL: { code: 'bad_request', status: 400 },
};

/** The catalogue's general code for a client-error status that no mapping above names. */
const genericCodes: Record<number, ErrorCode> = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict',
  413: 'payload_too_large', 415: 'unsupported_media_type', 416: 'range_not_satisfiable', 429: 'rate_limited',
};

export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ?? {}) } };
}

export default fp(async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | SluiceError, request, reply) => {
    if (error instanceof SluiceError) {
      // RFC 9110 §15.5.17: a 416 names the current length, so the client can ask again.
      if (error.code === 'range_not_satisfiable' && typeof error.details?.size === 'number') reply.header('Content-Range', `bytes */${error.details.size}`);
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    if ((error as FastifyError).validation) {
      return reply.status(400).send(errorBody('bad_request', error.message));
    }
    const mapped = error.code ? frameworkCodes[error.code] : undefined;
    if (mapped) return reply.status(mapped.status).send(errorBody(mapped.code, error.message));
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      // Any other client error gets the catalogue's code for its status, and that code's status.
      const code = genericCodes[status] ?? 'bad_request';
      return reply.status(errorStatus[code]).send(errorBody(code, error.message));
    }
    request.log.error({ err: error }, 'unhandled error: this is a bug');
    return reply.status(500).send(errorBody('internal_error', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
});
