// Faults with their contractual clocks, and the SLA report.
import { Type, type Static } from 'typebox';
import { faultClasses, faultStatuses } from '../server/domain/faults.js';
import { Identifier, Nullable, Timestamp } from './common.js';

const Clock = Type.Object({
  dueAt: Timestamp,
  warnAt: Timestamp,
  doneAt: Nullable(Timestamp),
  withinSeconds: Type.Integer(),
  countedSeconds: Type.Integer(),
  remainingSeconds: Nullable(Type.Integer()),
  breached: Type.Boolean(),
});
const Severity = Type.Union([Type.Literal('major'), Type.Literal('general')]);
export const ReportFault = Type.Object(
  {
    customer: Type.Optional(Identifier),
    device: Type.Optional(Identifier),
    class: Type.String({ maxLength: 1, description: 'A, B, C or D' }),
    severity: Type.Optional(Severity),
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(Type.String({ maxLength: 20000 })),
  },
  { additionalProperties: false },
);
export const FaultQuery = Type.Object(
  {
    customer: Type.Optional(Identifier),
    status: Type.Optional(Type.String({ maxLength: 20 })),
    class: Type.Optional(Type.String({ maxLength: 1 })),
  },
  { additionalProperties: false },
);
export const FaultStepBody = Type.Object({ resolution: Type.Optional(Type.String({ maxLength: 20000 })) }, { additionalProperties: false });

export const FaultQuestion = Type.Object(
  {
    id: Type.String(),
    text: Type.String(),
    askedBy: Type.String(),
    askedAt: Timestamp,
    answer: Nullable(Type.String()),
    answeredBy: Nullable(Type.String()),
    answeredAt: Nullable(Timestamp),
  },
  { description: "a question staff asked the customer: the fault's clocks pause from askedAt until answeredAt" },
);
export const AskQuestion = Type.Object({ text: Type.String({ minLength: 1, maxLength: 5000 }) }, { additionalProperties: false });
export const AnswerQuestion = Type.Object({ answer: Type.String({ minLength: 1, maxLength: 20000 }) }, { additionalProperties: false });
export const QuestionParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  question: Type.String({ minLength: 1, maxLength: 64 }),
});

export const Fault = Type.Object({
  id: Type.String(),
  customer: Type.String(),
  device: Nullable(Type.String()),
  plan: Nullable(Type.String()),
  class: Type.Enum(faultClasses),
  severity: Severity,
  title: Type.String(),
  description: Type.String(),
  status: Type.Enum(faultStatuses),
  source: Type.String({ description: 'customer, staff or agent' }),
  reportedBy: Type.String(),
  reportedAt: Timestamp,
  acknowledgedBy: Nullable(Type.String()),
  acknowledgedAt: Nullable(Timestamp),
  fixRelease: Nullable(Type.String()),
  fixAvailableAt: Nullable(Timestamp),
  resolvedBy: Nullable(Type.String()),
  resolvedAt: Nullable(Timestamp),
  resolution: Nullable(Type.String()),
  closedAt: Nullable(Timestamp),
  due: Type.Object(
    {
      respondBy: Timestamp,
      acknowledgeBy: Timestamp,
      resolveBy: Nullable(Timestamp),
    },
    {
      description:
        "the contract's clocks: response is immediate; processing starts by acknowledgeBy; A and B resolved by resolveBy (C and D have no resolution clock)",
    },
  ),
  breached: Type.Boolean(),
  breaches: Type.Object({ acknowledge: Type.Boolean(), resolve: Type.Boolean() }),
  clock: Type.Object(
    {
      serviceHours: Type.Boolean({ description: "the clocks count within the vendor's service hours (C and D), not around the clock" }),
      paused: Type.Boolean({ description: 'waiting on the customer: the clocks stand still' }),
      pausedSeconds: Type.Integer({
        description: 'wall-clock seconds spent waiting on the customer (consent requested, a question asked)',
      }),
      warningShare: Type.Number({ description: 'share of a clock after which a warning goes out' }),
      acknowledge: Clock,
      resolve: Type.Optional(Nullable(Clock)),
    },
    { description: 'how the clocks count, for a page that shows "due in N min"' },
  ),
  questions: Type.Array(FaultQuestion),
});
export type FaultType = Static<typeof Fault>;

export const SlaQuery = Type.Object(
  { from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);
const Figures = Type.Object({
  medianSeconds: Nullable(Type.Number()),
  p95Seconds: Nullable(Type.Number()),
  metShare: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
});
export const SlaClass = Type.Object({
  count: Type.Integer(),
  acknowledge: Figures,
  resolve: Figures,
  breaches: Type.Array(Type.Object({ id: Type.String(), acknowledge: Type.Boolean(), resolve: Type.Boolean() })),
});
export type SlaClassType = Static<typeof SlaClass>;
export const SlaReport = Type.Object({
  from: Timestamp,
  to: Timestamp,
  generatedAt: Timestamp,
  serviceHoursClasses: Type.Array(Type.String(), { description: 'the classes whose clocks count service hours only' }),
  classes: Type.Object({ A: SlaClass, B: SlaClass, C: SlaClass, D: SlaClass }),
});
export type SlaReportType = Static<typeof SlaReport>;
