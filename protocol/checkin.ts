// The device API (DESIGN.md, "HTTP API" and "Trust model"): the check-in and its signed
// answer, the reports of agent transitions, the diagnostics upload. The agent (client/)
// imports this module too: it validates the answer it verified against `CheckinAnswer`,
// so this file imports nothing of the server.
import { Type, type Static } from 'typebox';
import { agentStates } from '../client/states.js';
import { Nullable, Signed, Timestamp } from './common.js';
import { SignedManifest } from './releases.js';

const AgentState = Type.Enum(agentStates);

export const CheckinRequest = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 100, description: 'the version the device runs' }),
    nonce: Type.String({ pattern: '^[0-9a-f]{16,128}$', description: 'random hex chosen by the device; echoed in the signed answer' }),
    state: Type.Optional(AgentState),
    assignment: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  },
  { additionalProperties: false },
);
export type CheckinRequestType = Static<typeof CheckinRequest>;

export const CheckinAssignment = Type.Object({
  id: Type.String({ description: 'the assignment; report events with it' }),
  plan: Type.String(),
  release: Type.String(),
  manifest: SignedManifest,
  artifactUrl: Type.String({ description: 'path on the same server' }),
  window: Nullable(
    Type.Object({ start: Timestamp, end: Timestamp }, { description: 'the occurrence of the confirmed window the install waits for' }),
  ),
  installAllowed: Type.Boolean({ description: 'now is inside the window and the install fits before its end' }),
  downgrade: Type.Boolean(),
});
export type CheckinAssignmentType = Static<typeof CheckinAssignment>;

export const DiagnosticsRequest = Type.Object({
  session: Type.String({ description: 'upload to /api/v1/device/diagnostics/:session' }),
  collect: Type.Array(Type.String()),
});

/**
 * The signed part of the check-in answer, bound to the device's nonce and short-lived. Its
 * objects stay open to fields a later server adds (an agent in the field must not refuse a
 * newer server's answer); the agent reads only the fields named here.
 */
export const CheckinAnswer = Type.Object({
  type: Type.Literal('checkin'),
  deviceId: Type.String(),
  nonce: Type.String(),
  serverTime: Timestamp,
  expires: Timestamp,
  pollAfterSeconds: Type.Number({ minimum: 0 }),
  assignment: Nullable(CheckinAssignment),
  diagnostics: Nullable(DiagnosticsRequest),
});
export type CheckinAnswerType = Static<typeof CheckinAnswer>;
export const SignedCheckinAnswer = Signed(CheckinAnswer, 16);

export const DeviceReport = Type.Object(
  {
    assignment: Nullable(Type.String({ maxLength: 100 })),
    state: AgentState,
    detail: Type.Optional(Nullable(Type.String({ maxLength: 4000 }))),
    progress: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
    eventId: Type.Optional(Type.String({ minLength: 8, maxLength: 100, description: 'makes resends idempotent' })),
    at: Type.Optional(Type.String({ format: 'date-time', description: "when it happened, by the device's clock" })),
    delivery: Type.Optional(
      Type.Object(
        {
          method: Type.Union([Type.Literal('delta'), Type.Literal('full')]),
          bytesDownloaded: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          bytesFull: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
        },
        {
          additionalProperties: false,
          description: 'on `downloaded`: the bytes fetched for the artifact (index included) against its size (docs/delta-updates.md)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DeviceReportType = Static<typeof DeviceReport>;
