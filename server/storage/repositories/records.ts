// The domain objects the repositories hand out: camelCase, parsed JSON, Dates. No row shape
// or SQL text leaves server/storage/; these types are what the rest of the server sees.
import type { SignedDocument } from '../../../signing/signed.js';
import type { ReleaseManifest } from '../../../signing/manifest.js';
import type { Role } from '../../auth/principal.js';

export interface Product { id: string; name: string; createdAt: Date }
export interface Customer { id: string; name: string; timezone: string; createdAt: Date }

export interface Device {
  id: string; customer: string; product: string; hardware: string; version: string;
  state: string | null; lastSeenAt: Date | null; createdAt: Date;
}

export interface DeviceEvent {
  eventId: string; device: string; assignment: string | null; plan: string | null; release: string | null;
  state: string; detail: string | null; progress: number | null; at: Date; receivedAt: Date;
}

export interface User { id: string; username: string; role: Role; customer: string | null; passwordHash: string | null; createdAt: Date }

export interface Release {
  id: string; product: string; version: string; sha256: string; size: number; sha1: string; md5: string;
  manifest: SignedDocument<ReleaseManifest>; publishedAt: Date; publishedBy: string; yankedAt: Date | null; yankReason: string | null;
}

export interface AuditEntry { actor: string; action: string; subject: string; details?: Record<string, unknown>; at?: Date }
export interface AuditRecord { id: number; at: Date; actor: string; action: string; subject: string; details: Record<string, unknown> | null }

/** ISO text in the database, Date outside it. */
export const toDate = (text: string): Date => new Date(text);
export const toDateOrNull = (text: string | null): Date | null => (text === null ? null : new Date(text));
