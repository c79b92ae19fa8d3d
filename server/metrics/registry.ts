// The server's metrics (docs/metrics.md): one prom-client registry per app, never the global
// default one, since one process may run several apps (the tests do). Counters and
// histograms are fed as things happen; the fleet's gauges are read from the store when
// Prometheus scrapes, so that every server process sharing one database reports the same
// fleet and nothing is kept in memory that a restart would lose.
import { Counter, Gauge, Registry } from 'prom-client';
import { BoundHistogram } from './bound-histogram.js';
import type { Dialect } from '../storage/sql.js';
import type { StatementKind, StatementObserver } from '../storage/statement-timing.js';
import type { UnresolvedFaults } from '../storage/repositories/faults.js';
import type { PlanKind } from '../storage/repositories/records.js';
import { planStatuses } from '../domain/plans.js';
import { faultClasses, resolveWithin } from '../domain/faults.js';

/** What the gauges read at scrape time. */
export interface ScrapeSources {
  plans(): Promise<readonly { kind: PlanKind; status: string; count: number }[]>;
  unresolvedFaults(): Promise<readonly UnresolvedFaults[]>;
  signerPending(): number;
}

export type CheckinProtocol = 'sluice' | 'ddi';

export interface ServerMetrics {
  readonly registry: Registry;
  /** The timer of one route's answers, by status; `route` is its pattern (`/api/v1/plans/:id`). */
  requestTimer(method: string, route: string): (status: number, seconds: number) => void;
  checkin(protocol: CheckinProtocol, answered: boolean): void;
  deviceEvent(state: string): void;
  /** `mode`: how the bytes left (options.artifactDelivery.mode). */
  artifactBytes(mode: string, bytes: number): void;
  /** `code`: the error code of a refusal; absent for an accepted upload. */
  upload(code?: string): void;
  /** Times statements of a database of `dialect` (OpenStore.observeStatements). */
  statementObserver(dialect: Dialect): StatementObserver;
}

const planKinds: readonly PlanKind[] = ['upgrade', 'commissioning'];
const unresolvedStatuses = ['open', 'acknowledged', 'fix_available'] as const;
const statementKinds: readonly StatementKind[] = ['all', 'get', 'run', 'transaction'];

export function createServerMetrics(sources: ScrapeSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];

  const httpDuration = new BoundHistogram(
    'sluice_http_request_duration_seconds',
    "Time from a request's arrival to the end of its answer, by method, route pattern and status.",
    ['method', 'route', 'status'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registry,
  );
  const checkins = new Counter({
    name: 'sluice_checkins_total',
    help: "Device check-ins (sluice's signed check-in and the DDI controller poll), answered or refused.",
    labelNames: ['protocol', 'outcome'] as const,
    registers,
  });
  const deviceEvents = new Counter({
    name: 'sluice_device_events_total',
    help: 'Device state reports recorded (resends of one already recorded are not counted), by the state reported.',
    labelNames: ['state'] as const,
    registers,
  });
  const deliveredBytes = new Counter({
    name: 'sluice_artifact_delivered_bytes_total',
    help: 'Artifact bytes delivered to clients, by delivery mode (stream: transfers Node finished; x-accel-redirect, redirect: bytes handed to nginx or the object store).',
    labelNames: ['mode'] as const,
    registers,
  });
  const uploads = new Counter({
    name: 'sluice_uploads_total',
    help: 'Release uploads (POST /api/v1/releases), accepted or refused with an error code.',
    labelNames: ['outcome', 'code'] as const,
    registers,
  });
  const statementDuration = new BoundHistogram(
    'sluice_db_statement_duration_seconds',
    'Time of database statements by dialect and session method (all, get, run), and of whole transactions (transaction).',
    ['dialect', 'kind'],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registry,
  );

  // Two gauges come from one read of the faults; concurrent collections share it.
  const unresolvedFaults = coalesced(() => sources.unresolvedFaults());
  new Gauge({
    name: 'sluice_plans',
    help: 'Plans by kind and status, read from the store at scrape time.',
    labelNames: ['kind', 'status'] as const,
    registers,
    async collect() {
      const counts = await sources.plans();
      // Everything is set after the one await, so a collection never shows half a read.
      this.reset();
      for (const kind of planKinds) for (const status of planStatuses) this.set({ kind, status }, 0);
      for (const { kind, status, count } of counts) this.set({ kind, status }, count);
    },
  });
  new Gauge({
    name: 'sluice_faults_open',
    help: 'Faults not yet resolved (open, acknowledged, fix_available) by class and status, read from the store at scrape time.',
    labelNames: ['class', 'status'] as const,
    registers,
    async collect() {
      const summary = await unresolvedFaults();
      this.reset();
      for (const faultClass of faultClasses) for (const status of unresolvedStatuses) this.set({ class: faultClass, status }, 0);
      for (const row of summary) this.set({ class: row.class, status: row.status }, row.count);
    },
  });
  new Gauge({
    name: 'sluice_sla_breaches',
    help: 'Unresolved faults whose SLA clock (acknowledge or resolve) has run out with its step still not taken, by class.',
    labelNames: ['class', 'clock'] as const,
    registers,
    async collect() {
      const summary = await unresolvedFaults();
      this.reset();
      for (const faultClass of faultClasses) {
        this.set({ class: faultClass, clock: 'acknowledge' }, 0);
        if (resolveWithin[faultClass]) this.set({ class: faultClass, clock: 'resolve' }, 0);
      }
      for (const row of summary) {
        this.inc({ class: row.class, clock: 'acknowledge' }, row.acknowledgeLate);
        if (resolveWithin[row.class]) this.inc({ class: row.class, clock: 'resolve' }, row.resolveLate);
      }
    },
  });
  new Gauge({
    name: 'sluice_checkin_signer_queue_depth',
    help: 'Check-in answers waiting for their signature (queued for the signing thread or being signed there).',
    registers,
    collect() {
      this.set(sources.signerPending());
    },
  });

  return {
    registry,
    requestTimer(method, route) {
      // Bound once per route and status: timing an answer builds no label string.
      const byStatus = new Map<number, (seconds: number) => void>();
      return (status, seconds) => {
        let record = byStatus.get(status);
        if (!record) byStatus.set(status, (record = httpDuration.bind({ method, route, status: String(status) })));
        record(seconds);
      };
    },
    checkin(protocol, answered) {
      checkins.inc({ protocol, outcome: answered ? 'answered' : 'refused' });
    },
    deviceEvent(state) {
      deviceEvents.inc({ state });
    },
    artifactBytes(mode, bytes) {
      if (bytes > 0) deliveredBytes.inc({ mode }, bytes);
    },
    upload(code) {
      uploads.inc(code === undefined ? { outcome: 'accepted', code: '' } : { outcome: 'refused', code });
    },
    statementObserver(dialect) {
      const byKind = new Map(statementKinds.map((kind) => [kind, statementDuration.bind({ dialect, kind })]));
      return (kind, seconds) => byKind.get(kind)!(seconds);
    },
  };
}

/** `load`, with calls made while one is under way sharing its result. */
function coalesced<T>(load: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () =>
    (running ??= load().finally(() => {
      running = null;
    }));
}
