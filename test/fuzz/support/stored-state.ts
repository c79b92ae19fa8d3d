// "Nothing stored": a fingerprint of everything a request could leave behind, the database
// rows and the files under the data directory, taken before and after each refused request.
//
// Left out on purpose: the `audit` table and `sign_in_limits`. Both record attempts, refused
// ones included (a DDI download is audited before its Range is judged; a failed portal login
// or a wrong current password is counted for the rate limit). They are not ignored, though:
// a refused request may add audit rows only of the attempt-logging actions listed below, so a
// refused upload that left a "release.publish" row would still be caught.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Store } from '../../../server/storage/store.js';

const logTables = new Set(['audit', 'sign_in_limits']);
// Columns written behind, a moment after the request that caused them, so they may land
// while a later, refused request is being judged: device presence (last_seen_at and the
// state a check-in reports, server/storage/presence.ts) and a release's SHA-1 and MD5,
// computed from its stored bytes after publishing (for DDI clients). Left out.
const writtenBehind: Record<string, readonly string[]> = { devices: ['last_seen_at', 'state'], releases: ['sha1', 'md5'] };
/** Audit actions that record an attempt rather than a change, so a refusal may add them. */
export const attemptActions = new Set(['ddi.download']);
const databaseFiles = /^sluice\.db(-wal|-shm|-journal)?$/;

export interface StoredState {
  tables: Record<string, string>;
  files: string[];
  auditRows: number;
}

// Fingerprinting every table for every request would dominate the fuzz run: on SQLite the
// fingerprints are reused while the connection's count of written rows stays the same (the
// app has no other connection). PostgreSQL has no such counter, so there each call reads all.
const remembered = new WeakMap<Store, { changes: number; tables: Record<string, string> }>();

/** Through the store, so that it reads either dialect (storage/inspection.ts). */
export async function storedState(store: Store, dataDir: string): Promise<StoredState> {
  const changes = await store.inspection.changeCount();
  const known = remembered.get(store);
  const tables =
    changes !== null && known?.changes === changes
      ? known.tables
      : await store.inspection.fingerprint({ skipTables: logTables, skipColumns: writtenBehind });
  if (changes !== null) remembered.set(store, { changes, tables });
  const auditRows = await store.audit.count({});
  return { tables, files: filesUnder(dataDir, dataDir), auditRows };
}

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return filesUnder(root, path);
      if (dir === root && databaseFiles.test(entry.name)) return [];
      return [`${relative(root, path)} ${statSync(path).size}`];
    })
    .sort();
}

/** What changed between two fingerprints, in words; empty when nothing did. */
export async function differences(store: Store, before: StoredState, after: StoredState): Promise<string[]> {
  const changed = Object.keys({ ...before.tables, ...after.tables })
    .filter((name) => before.tables[name] !== after.tables[name])
    .map((name) => `table ${name}`);
  const added = after.files.filter((file) => !before.files.includes(file)).map((file) => `file + ${file}`);
  const removed = before.files.filter((file) => !after.files.includes(file)).map((file) => `file - ${file}`);
  const audit =
    after.auditRows > before.auditRows
      ? (await store.audit.list({ limit: after.auditRows - before.auditRows }))
          .filter((entry) => !attemptActions.has(entry.action))
          .map((entry) => `audit row ${entry.action}`)
      : [];
  return [...changed, ...added, ...removed, ...audit];
}
