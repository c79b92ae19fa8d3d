// The one catalogue of every code the server answers with (fastify's lib/errors.js, hawkBit's
// REST mapping). Domain code throws SluiceError with a code and never chooses an HTTP status:
// the status and the meaning of each code live in this table only, and the error handler
// plugin is the only place that turns an error into { error: { code, message } }.
// docs/errors.md explains each code to integrators; test/contract/error-catalogue.test.ts
// fails when this table, that page and the codes the server throws disagree.

import type { ErrorReplyType } from '../protocol/errors.js';

/** The facts an error may carry beside its code and message: the error reply's schema names each. */
export type ErrorDetails = Omit<ErrorReplyType['error'], 'code' | 'message'>;

interface CatalogueEntry<Status extends number = number> {
  status: Status;
  /** One line; docs/errors.md says when each code arises and what a client should do. */
  meaning: string;
}

// Keeps each status a literal type, so that `errorStatus.not_found` is typed 404.
const entry = <Status extends number>(status: Status, meaning: string): CatalogueEntry<Status> => ({ status, meaning });

export const errorCatalogue = {
  // 400: the request is malformed, or a value in it is not acceptable
  bad_request: entry(400, "the request's framing is broken: not JSON, broken multipart, parts in the wrong order"),
  // One code for bad values, whether the route's schema or a rule of the domain finds them
  // (fastify answers schema failures 400, hawkBit answers constraint violations 400).
  validation_failed: entry(400, "a value does not fit the route's schema or breaks a rule of the domain"),
  invalid_window: entry(400, 'a maintenance window is not well formed'),
  invalid_timezone: entry(400, "a window's timezone is not an IANA time zone"),
  invalid_locale: entry(400, 'a locale is not a BCP 47 language tag the server can format dates in'),
  invalid_cron: entry(400, "a recurring window's cron expression is not five valid fields"),
  // 401/403: who you are, what you may do
  unauthorized: entry(401, 'no token, an unknown or revoked one, or a malformed Authorization header'),
  forbidden: entry(403, "the caller's role or kind of token may not do this"),
  consent_required: entry(403, "a diagnostics upload without the customer's live consent"),
  not_assigned: entry(403, 'a device asked for an artifact no live plan assigns to it'),
  password_incorrect: entry(403, "a password change whose currentPassword is not the user's password"),
  // 404
  not_found: entry(404, 'no such route or resource, or one of another customer'),
  chunk_index_unavailable: entry(404, 'the release has no chunk index (signed without one, or not uploaded yet): download the artifact'),
  chunk_pack_unavailable: entry(404, 'the release has no chunk pack (signed without one, or not uploaded yet): download the artifact'),
  // 408
  request_timeout: entry(408, 'the request did not arrive completely in time'),
  // 409: the resource is in a state that forbids this
  conflict: entry(409, "the resource's current state forbids the request"),
  version_exists: entry(409, 'this product and version are already published'),
  already_exists: entry(409, 'a product, customer, device or user with this id already exists'),
  illegal_transition: entry(409, 'the lifecycle has no such step from the current status'),
  // 410
  action_closed: entry(410, 'feedback for a hawkBit DDI action that is already closed'),
  release_yanked: entry(410, 'the release was yanked: devices may not fetch it, plans may not use or resume on it'),
  // 413-431: limits of the transport
  payload_too_large: entry(413, "the body, a part or a file is over the server's limit"),
  uri_too_long: entry(414, 'a path parameter is longer than the router accepts'),
  unsupported_media_type: entry(415, "the body's Content-Type is not one the route reads"),
  range_not_satisfiable: entry(416, "the Range starts past the artifact's end"),
  expectation_failed: entry(417, 'an Expect header other than 100-continue'),
  header_too_large: entry(431, "the request headers are over the server's limit"),
  // 422: well formed, but refused on its content
  signature_invalid: entry(422, "a manifest or root is not signed by a threshold of its role's keys"),
  root_unusable: entry(422, 'a new root the fleet could not follow: expired, or its server role lacks the key this server signs with'),
  chunk_index_not_signed: entry(422, 'a chunk index uploaded for a release whose signed manifest names none'),
  chunk_pack_not_signed: entry(422, 'a chunk pack uploaded for a release whose signed manifest names none'),
  digest_mismatch: entry(422, "the uploaded artifact's SHA-256 differs from its manifest's"),
  size_mismatch: entry(422, "the uploaded artifact's length differs from its manifest's"),
  manifest_invalid: entry(422, 'the manifest is not a signed document, or a field of it is malformed'),
  unknown_product: entry(422, 'the body names a product that does not exist'),
  unknown_customer: entry(422, 'the body names a customer that does not exist'),
  unknown_device: entry(422, 'the body names a device that does not exist'),
  unknown_release: entry(422, 'the body names a release that does not exist'),
  release_mismatch: entry(422, "devices named in a plan that the release's signed manifest does not fit"),
  customer_mismatch: entry(422, 'a device of another customer'),
  no_window_before_deadline: entry(422, "a window has no occurrence before the plan's deadline"),
  invalid_window_index: entry(422, 'the confirmed window is not one that was proposed'),
  invalid_webhook_url: entry(422, 'a webhook URL that is not an absolute http(s) URL'),
  invalid_service_hours: entry(422, 'a service-hours calendar with an unknown zone, no weekday, bad hours or a bad holiday date'),
  invalid_contract_terms: entry(422, "a customer's contract terms name a clock no service desk could count"),
  // 429
  rate_limited: entry(429, 'too many unknown tokens from this address, or wrong passwords for this account or from this address'),
  // 500: always a bug, logged with its stack
  internal_error: entry(500, 'the server failed in a way it did not expect'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

/** Each code's HTTP status, for the callers that need only that. */
export const errorStatus = Object.freeze(
  Object.fromEntries(Object.entries(errorCatalogue).map(([code, entry]) => [code, entry.status])),
) as { readonly [Code in ErrorCode]: (typeof errorCatalogue)[Code]['status'] };

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for the client, e.g. the current state of a plan; each is declared in protocol/errors.ts. */
    readonly details?: ErrorDetails,
  ) {
    super(message);
  }
  get status(): number {
    return errorStatus[this.code];
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorCatalogue, value);
}
