// Upgrade and commissioning plans: the requests of their lifecycle and the plan as read.
import { Type, type Static } from 'typebox';
import { planStatuses } from '../server/domain/plans.js';
import { Identifier, Nullable, Timestamp } from './common.js';

const OneOffWindow = Type.Object(
  {
    start: Type.String({ maxLength: 40, description: 'local time, YYYY-MM-DDTHH:mm' }),
    end: Type.String({ maxLength: 40 }),
    timezone: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
const RecurringWindow = Type.Object(
  {
    cron: Type.String({ maxLength: 120, description: 'five fields, local time' }),
    duration: Type.String({ maxLength: 40, description: 'ISO 8601, e.g. PT3H' }),
    timezone: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export const Window = Type.Union(
  [OneOffWindow, RecurringWindow, Type.Object({ asap: Type.Literal(true) }, { additionalProperties: false })],
  {
    description: 'one-off {start,end,timezone} in local time, recurring {cron,duration,timezone}, or {asap:true} for emergencies',
  },
);
/** A window as the plan keeps it: an asap window gets `from`, the consent's instant, when confirmed. */
export const PlanWindow = Type.Union([
  OneOffWindow,
  RecurringWindow,
  Type.Object({ asap: Type.Literal(true), from: Type.Optional(Timestamp) }, { additionalProperties: false }),
]);
export const Windows = Type.Array(Window, { minItems: 1, maxItems: 20 });

const FailureLimit = Type.Object(
  { percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })), count: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);
export const Wave = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100 })),
    percent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    successThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    failureLimit: Type.Optional(FailureLimit),
    minFinished: Type.Optional(Type.Integer({ minimum: 0 })),
    soakSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const CreatePlan = Type.Object(
  {
    customer: Identifier,
    release: Type.String({ minLength: 1, maxLength: 100 }),
    devices: Type.Optional(
      Type.Array(Identifier, { maxItems: 100000, description: "default: all the customer's devices of the release's product" }),
    ),
    windows: Windows,
    waves: Type.Optional(Type.Array(Wave, { minItems: 1, maxItems: 20 })),
    deadline: Type.Optional(Type.String({ format: 'date-time', description: 'default: a month after the release was published' })),
    notes: Type.Optional(Type.String({ maxLength: 20000 })),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
    expectedInstallSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    seed: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type CreatePlanType = Static<typeof CreatePlan>;

export const PlanQuery = Type.Object(
  {
    customer: Type.Optional(Identifier),
    status: Type.Optional(Type.String({ maxLength: 20 })),
    kind: Type.Optional(Type.String({ maxLength: 20 })),
  },
  { additionalProperties: false },
);
export const ProposeBody = Type.Object({ windows: Type.Optional(Windows) }, { additionalProperties: false });
export const ReasonBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export const Maintainer = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    phone: Type.String({ minLength: 3, maxLength: 50 }),
    email: Type.Optional(
      Type.String({
        format: 'email',
        maxLength: 320,
        description: "where the window's 24 h and 1 h reminders (window.reminder) are sent too",
      }),
    ),
  },
  { additionalProperties: false },
);
export const ConfirmBody = Type.Object(
  { window: Type.Integer({ minimum: 0, description: 'index of a proposed window' }), maintainer: Maintainer },
  { additionalProperties: false },
);
export const CounterBody = Type.Object({ windows: Windows, comment: Type.String({ maxLength: 5000 }) }, { additionalProperties: false });
export const DocumentQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('md')])), version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

const Engineer = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), phone: Type.Optional(Type.String({ maxLength: 50 })) },
  { additionalProperties: false },
);
const CommissioningFields = {
  mode: Type.Union([Type.Literal('remote'), Type.Literal('on_site')]),
  date: Type.String({ format: 'date-time' }),
  equipment: Type.Array(
    Type.Object(
      { type: Type.String({ minLength: 1, maxLength: 200 }), count: Type.Integer({ minimum: 1, maximum: 100000 }) },
      { additionalProperties: false },
    ),
    { maxItems: 100 },
  ),
  services: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 }),
  engineers: Type.Array(Engineer, { maxItems: 50 }),
};
export const CommissioningDetails = Type.Object(CommissioningFields, { additionalProperties: false });
/** What a plan's `details` show: a commissioning plan's own facts (internal notes stay with the vendor's console). */
export const PlanDetails = Type.Partial(CommissioningDetails, {
  description: "a commissioning plan's mode, date, equipment, services and engineers",
});
export const CreateCommissioning = Type.Object(
  {
    customer: Identifier,
    ...CommissioningFields,
    windows: Windows,
    notes: Type.Optional(Type.String({ maxLength: 20000 })),
  },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });
export const PlanProgress = Type.Object({
  total: Count,
  byState: Type.Record(Type.String(), Count, { description: 'devices per agent state; "pending" for those that have not reported' }),
  waves: Type.Array(
    Type.Object({
      wave: Count,
      status: Type.Union([Type.Literal('pending'), Type.Literal('open'), Type.Literal('succeeded'), Type.Literal('failed')]),
      openedAt: Nullable(Timestamp),
      finishedAt: Nullable(Timestamp),
      total: Count,
      succeeded: Count,
      failed: Count,
      inProgress: Count,
    }),
  ),
});

const PlanStatus = Type.Enum(planStatuses);
export const Plan = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('upgrade'), Type.Literal('commissioning')]),
  customer: Type.String(),
  release: Nullable(Type.String({ description: 'null for a commissioning plan' })),
  status: PlanStatus,
  pausedFrom: Nullable(PlanStatus),
  windows: Type.Array(PlanWindow),
  waves: Type.Array(Wave),
  deadline: Timestamp,
  notes: Type.String(),
  details: Nullable(PlanDetails),
  maxConcurrent: Nullable(Type.Integer()),
  expectedInstallSeconds: Type.Integer(),
  confirmation: Nullable(Type.Object({ window: Count, by: Type.String(), at: Timestamp, maintainer: Nullable(Maintainer) })),
  counterComment: Nullable(Type.String()),
  documentVersion: Type.Integer({ minimum: 0, description: 'the number of the latest written plan; 0 before it is proposed' }),
  overdue: Type.Boolean(),
  overdueReason: Nullable(
    Type.Union([
      Type.Literal('no_window_before_deadline'),
      Type.Literal('unconfirmed_past_deadline'),
      Type.Literal('unfinished_past_deadline'),
    ]),
  ),
  createdBy: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  progress: PlanProgress,
  delivery: Type.Object(
    {
      devices: Count,
      deltaDevices: Count,
      bytesDownloaded: Count,
      bytesFull: Count,
      bytesSaved: Count,
    },
    { description: "over the devices that have downloaded: bytes fetched against the artifacts' full size (docs/delta-updates.md)" },
  ),
});
export type PlanType = Static<typeof Plan>;

export const ExcludedDevice = Type.Object({ device: Type.String(), reason: Type.String(), message: Type.String() });
export const CreatedPlan = Type.Object({
  ...Plan.properties,
  excluded: Type.Array(ExcludedDevice, {
    description: "the customer's devices of the product that the release's manifest does not fit, left out",
  }),
});
export type CreatedPlanType = Static<typeof CreatedPlan>;
