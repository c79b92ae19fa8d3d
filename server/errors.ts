// The one catalogue of coded errors (STYLE.md: fastify's lib/errors.js, hawkBit's REST
// mapping). Domain code throws SluiceError with a code; it never chooses an HTTP status.
// The status lives in this table only, and the error handler plugin is the only place
// that turns an error into a response body: { error: { code, message } } (DESIGN.md, HTTP API).

export const errorStatus = {
  // 400: the request is malformed
  bad_request: 400,
  invalid_window: 400,
  invalid_timezone: 400,
  invalid_cron: 400,
  invalid_range_header: 400,
  // 401/403: who you are, what you may do
  unauthorized: 401,
  forbidden: 403,
  consent_required: 403,
  not_assigned: 403,
  csrf_invalid: 403,
  // 404
  not_found: 404,
  // 409: the resource is in a state that forbids this
  conflict: 409,
  version_exists: 409,
  already_exists: 409,
  illegal_transition: 409,
  action_closed: 410,
  // 408/413/414/415/416/417/431
  request_timeout: 408,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  expectation_failed: 417,
  header_too_large: 431,
  // 422: well-formed but refused on its content
  signature_invalid: 422,
  digest_mismatch: 422,
  size_mismatch: 422,
  manifest_invalid: 422,
  unknown_product: 422,
  unknown_customer: 422,
  unknown_device: 422,
  unknown_release: 422,
  release_yanked: 422,
  product_mismatch: 422,
  customer_mismatch: 422,
  no_window_before_deadline: 422,
  invalid_window_index: 422,
  validation_failed: 422,
  // 429
  rate_limited: 429,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for the client, e.g. the current state of a plan. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  get status(): number {
    return errorStatus[this.code];
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorStatus, value);
}
