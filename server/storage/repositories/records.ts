// The domain objects the repositories hand out: camelCase, parsed JSON, Dates. No row shape
// or SQL text leaves server/storage/; these types are what the rest of the server sees.
import type { SignedDocument } from '../../../signing/signed.js';
import type { ReleaseManifest } from '../../../signing/manifest.js';
import type { Role } from '../../auth/principal.js';
import type { FaultClass, FaultSeverity, FaultStatus } from '../../domain/faults.js';
import type { SessionStatus } from '../../domain/support-sessions.js';
import type { ActionStatus } from '../../domain/ddi.js';
import type { OverdueReason, PlanStatus } from '../../domain/plans.js';
import type { MaintenanceWindow } from '../../domain/windows.js';
import type { WaveSpec } from '../../domain/waves.js';

export interface Product {
  id: string;
  name: string;
  createdAt: Date;
}
export interface Customer {
  id: string;
  name: string;
  timezone: string;
  createdAt: Date;
}

export interface Device {
  id: string;
  customer: string;
  product: string;
  hardware: string;
  version: string;
  state: string | null;
  lastSeenAt: Date | null;
  createdAt: Date;
}

export interface DeviceEvent {
  eventId: string;
  device: string;
  assignment: string | null;
  plan: string | null;
  release: string | null;
  state: string;
  detail: string | null;
  progress: number | null;
  at: Date;
  receivedAt: Date;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  customer: string | null;
  passwordHash: string | null;
  createdAt: Date;
}

export interface Release {
  id: string;
  product: string;
  version: string;
  sha256: string;
  size: number;
  sha1: string;
  md5: string;
  manifest: SignedDocument<ReleaseManifest>;
  publishedAt: Date;
  publishedBy: string;
  yankedAt: Date | null;
  yankReason: string | null;
}

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
  at?: Date;
}
export interface AuditRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown> | null;
}

/** ISO text in the database, Date outside it. */
export const toDate = (text: string): Date => new Date(text);
export const toDateOrNull = (text: string | null): Date | null => (text === null ? null : new Date(text));

// used by the service desk and DDI (faults, support sessions, DDI actions)
export interface Fault {
  id: string;
  seq: number;
  customer: string;
  device: string | null;
  plan: string | null;
  class: FaultClass;
  severity: FaultSeverity;
  title: string;
  description: string;
  status: FaultStatus;
  source: string;
  reportedBy: string;
  reportedAt: Date;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  fixRelease: string | null;
  fixAvailableAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  resolution: string | null;
  closedAt: Date | null;
}

export interface SupportSession {
  id: string;
  device: string;
  customer: string;
  reason: string;
  collect: string[];
  status: SessionStatus;
  requestedBy: string;
  requestedAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  expiresAt: Date | null;
  withdrawnAt: Date | null;
  uploadedAt: Date | null;
  bundle: { sha256: string; size: number } | null;
}

export interface DdiAction {
  id: number;
  plan: string;
  device: string;
  status: ActionStatus;
  /** What the last deploymentBase answer told the device to do with the update. */
  lastUpdate: 'forced' | 'skip' | null;
  createdAt: Date;
  closedAt: Date | null;
}

// used by plans and check-in (plans of both kinds, their devices, waves and documents)
export type PlanKind = 'upgrade' | 'commissioning';
export interface Maintainer {
  name: string;
  phone: string;
  /** Optional: the window's reminders go to this address too. */
  email?: string;
}

export interface Plan {
  id: string;
  kind: PlanKind;
  customer: string;
  release: string | null;
  status: PlanStatus;
  /** The status a paused plan resumes to. */
  pausedFrom: PlanStatus | null;
  windows: MaintenanceWindow[];
  waves: WaveSpec[];
  seed: string;
  deadline: Date;
  notes: string;
  details: Record<string, unknown> | null;
  maxConcurrent: number | null;
  expectedInstallSeconds: number;
  confirmedWindow: number | null;
  confirmedBy: string | null;
  confirmedAt: Date | null;
  maintainer: Maintainer | null;
  counterComment: string | null;
  documentVersion: number;
  overdueReason: OverdueReason | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface PlanDevice {
  plan: string;
  device: string;
  wave: number | null;
  state: string | null;
  stateAt: Date | null;
  joinedAt: Date;
}

export type PlanWaveStatus = 'pending' | 'open' | 'succeeded' | 'failed';
export interface PlanWave {
  plan: string;
  wave: number;
  status: PlanWaveStatus;
  openedAt: Date | null;
  finishedAt: Date | null;
}

export interface PlanDocument {
  plan: string;
  version: number;
  markdown: string;
  html: string;
  createdBy: string;
  createdAt: Date;
}

/** How many of a plan's devices are in each wave and agent state (null: not yet drawn, not yet reported). */
export interface PlanStateCount {
  wave: number | null;
  state: string | null;
  devices: number;
}

/** One of a device's live plans, with everything a check-in decides on (read in one query). */
export interface LiveAssignment {
  plan: Pick<Plan, 'id' | 'status' | 'windows' | 'waves' | 'maxConcurrent' | 'expectedInstallSeconds' | 'confirmedWindow' | 'confirmedAt'>;
  deviceWave: number;
  /** The agent state the device last reported in this plan. */
  deviceState: string | null;
  release: { id: string; version: string; yanked: boolean; manifest: SignedDocument<ReleaseManifest> };
  /** The plan's waves before the device's own: all that decides whether its wave is open. */
  earlierWaves: PlanWave[];
  /** Other devices of the plan holding an install slot now; 0 for a plan without a cap. */
  activeInstalls: number;
}

/** What a check-in reads in its one statement. */
export interface CheckinRead {
  assignments: LiveAssignment[];
  /** A support session of the device has consent: only then is there a diagnostics request to look up. */
  consentedSessions: boolean;
}
