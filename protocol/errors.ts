// The error reply every route may give (DESIGN.md, HTTP API): { error: { code, message } },
// and for some codes a machine-readable fact beside them (docs/errors.md).
import { Type, type Static } from 'typebox';

export const ErrorReply = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'a code of docs/errors.md, snake_case' }),
        message: Type.String({ description: 'for people; do not parse it' }),
        status: Type.Optional(
          Type.String({ description: 'illegal_transition, conflict, action_closed, consent_required: the current status' }),
        ),
        size: Type.Optional(Type.Integer({ description: "range_not_satisfiable: the artifact's length" })),
        retryAfterSeconds: Type.Optional(Type.Integer({ description: 'rate_limited: as the Retry-After header' })),
        window: Type.Optional(Type.Integer({ description: 'no_window_before_deadline: the index of the window' })),
        reason: Type.Optional(Type.String({ description: 'not_assigned: why the release does not fit the device' })),
        devices: Type.Optional(
          Type.Array(Type.Object({ device: Type.String(), reason: Type.String(), message: Type.String() }), {
            description: 'release_mismatch: the devices that do not fit, and why',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'ErrorReply', additionalProperties: false, description: 'the error shape of every 4xx and 5xx (docs/errors.md)' },
);
export type ErrorReplyType = Static<typeof ErrorReply>;

const errorRef = Type.Ref('ErrorReply');

/**
 * The error replies a route declares, by status: `...errors(400, 401, 404)` in `response`.
 * Only the statuses the route can raise belong there, so that /docs tells the truth.
 */
export function errors<const Status extends number>(...statuses: Status[]): Record<Status, typeof errorRef> {
  return Object.fromEntries(statuses.map((status) => [status, errorRef])) as Record<Status, typeof errorRef>;
}
