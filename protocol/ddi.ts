// hawkBit's Direct Device Integration documents (/{tenant}/controller/v1/{controllerId}/…),
// as hawkBit's own DDI API documents them, and the gateway tokens that DDI clients may use.
import { Type, type Static } from 'typebox';
import { executions, finishedValues } from '../server/domain/ddi.js';
import { Identifier, Nullable, Timestamp } from './common.js';

export const ControllerParams = Type.Object({ tenant: Type.String({ maxLength: 64 }), controllerId: Type.String({ maxLength: 64 }) });
export const ActionParams = Type.Object({
  tenant: Type.String({ maxLength: 64 }),
  controllerId: Type.String({ maxLength: 64 }),
  actionId: Type.Integer({ minimum: 1 }),
});
export const ArtifactParams = Type.Object({
  tenant: Type.String(),
  controllerId: Type.String(),
  moduleId: Type.String({ maxLength: 100 }),
  filename: Type.String({ maxLength: 300 }),
});
export const DeploymentQuery = Type.Object({
  c: Type.Optional(Type.String({ maxLength: 64, description: "hawkBit's cache buster; changes when the deployment does" })),
});

const Link = Type.Object({ href: Type.String() });

/** The controller base: how long to sleep and what to fetch next. */
export const ControllerBase = Type.Object({
  config: Type.Object({ polling: Type.Object({ sleep: Type.String({ pattern: '^\\d{2}:\\d{2}:\\d{2}$', description: 'HH:MM:SS' }) }) }),
  _links: Type.Object({
    deploymentBase: Type.Optional(Link),
    cancelAction: Type.Optional(Link),
    configData: Type.Optional(Link),
  }),
});
export type ControllerBaseType = Static<typeof ControllerBase>;

const Handling = Type.Union([Type.Literal('forced'), Type.Literal('skip'), Type.Literal('attempt')]);
export const DeploymentBase = Type.Object({
  id: Type.String(),
  deployment: Type.Object({
    download: Handling,
    update: Handling,
    maintenanceWindow: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('unavailable')])),
    chunks: Type.Array(
      Type.Object({
        part: Type.String(),
        version: Type.String(),
        name: Type.String(),
        artifacts: Type.Array(
          Type.Object({
            filename: Type.String(),
            size: Type.Integer(),
            hashes: Type.Object({ sha1: Type.String(), md5: Type.String(), sha256: Type.String() }),
            _links: Type.Object({ download: Link, 'download-http': Link, md5sum: Link, 'md5sum-http': Link }),
          }),
        ),
      }),
    ),
  }),
});
export type DeploymentBaseType = Static<typeof DeploymentBase>;

export const CancelAction = Type.Object({ id: Type.String(), cancelAction: Type.Object({ stopId: Type.String() }) });

// hawkBit clients send more than these fields (and hawkBit accepts them), so the feedback's
// objects stay open; the server reads only the fields named here.
export const Feedback = Type.Object({
  id: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer()])),
  time: Type.Optional(Type.String({ maxLength: 64 })),
  status: Type.Object({
    execution: Type.Enum(executions),
    result: Type.Object({
      finished: Type.Enum(finishedValues),
      progress: Type.Optional(Type.Object({ cnt: Type.Optional(Type.Integer()), of: Type.Optional(Type.Integer()) })),
    }),
    details: Type.Optional(Type.Array(Type.String({ maxLength: 4000 }), { maxItems: 100 })),
    code: Type.Optional(Type.Integer()),
  }),
});
export type FeedbackType = Static<typeof Feedback>;

export const ConfigData = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('merge'), Type.Literal('replace'), Type.Literal('remove')])),
    data: Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 })),
    id: Type.Optional(Type.String()),
    time: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.Object(
        {
          execution: Type.Optional(Type.String()),
          result: Type.Optional(Type.Object({ finished: Type.Optional(Type.String()) })),
        },
        { description: 'accepted and ignored, as hawkBit clients send it' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const CreateGatewayToken = Type.Object({ customer: Identifier }, { additionalProperties: false });
export const GatewayTokenQuery = Type.Object({ customer: Type.Optional(Identifier) }, { additionalProperties: false });
export const IssuedGatewayToken = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  customer: Type.String(),
  token: Type.String({ description: 'shown once; send "Authorization: GatewayToken <token>"' }),
});
export const GatewayToken = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  customer: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Timestamp,
  revokedAt: Nullable(Timestamp),
});
export type GatewayTokenType = Static<typeof GatewayToken>;
export const RevokedGatewayToken = Type.Object({ id: Type.String(), revokedAt: Timestamp });
