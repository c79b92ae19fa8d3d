// "Nothing stored": a fingerprint of everything a request could leave behind, the database
// rows and the files under the data directory, taken before and after each refused request.
//
// Left out on purpose: the `audit` table and `login_failures`. Both are logs whose job is to
// record attempts, refused ones included (a DDI download is audited before its Range is
// judged; a failed portal login is counted for the rate limit). They are not ignored, though:
// a refused request may add audit rows only of the attempt-logging actions listed below, so a
// refused upload that left a "release.publish" row would still be caught.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Db } from '../../../server/storage/database.js';

const logTables = new Set(['audit', 'login_failures']);
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

// Hashing every table for every request would dominate the fuzz run: the hashes are reused
// while SQLite's total_changes() (every row written on this connection, triggers included;
// the app has no other) stays the same.
const remembered = new WeakMap<Db, { changes: number; tables: Record<string, string> }>();

export function storedState(db: Db, dataDir: string): StoredState {
  const changes = (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  const known = remembered.get(db);
  const tables = known?.changes === changes ? known.tables : tableHashes(db);
  remembered.set(db, { changes, tables });
  const auditRows = (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
  return { tables, files: filesUnder(dataDir, dataDir), auditRows };
}

function tableHashes(db: Db): Record<string, string> {
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
    .map((row) => row.name).filter((name) => !logTables.has(name));
  const tables: Record<string, string> = {};
  for (const name of names) {
    const hash = createHash('sha256');
    const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[])
      .map((column) => column.name).filter((column) => !writtenBehind[name]?.includes(column));
    const select = `SELECT ${columns.map((column) => `"${column}"`).join(', ')} FROM "${name}" ORDER BY rowid`;
    for (const row of db.prepare(select).raw().iterate()) hash.update(JSON.stringify(row, bigints));
    tables[name] = hash.digest('hex');
  }
  return tables;
}

function bigints(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : Buffer.isBuffer(value) ? value.toString('hex') : value;
}

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(root, path);
    if (dir === root && databaseFiles.test(entry.name)) return [];
    return [`${relative(root, path)} ${statSync(path).size}`];
  }).sort();
}

/** What changed between two fingerprints, in words; empty when nothing did. */
export function differences(db: Db, before: StoredState, after: StoredState): string[] {
  const changed = Object.keys({ ...before.tables, ...after.tables }).filter((name) => before.tables[name] !== after.tables[name]).map((name) => `table ${name}`);
  const added = after.files.filter((file) => !before.files.includes(file)).map((file) => `file + ${file}`);
  const removed = before.files.filter((file) => !after.files.includes(file)).map((file) => `file - ${file}`);
  const audit = after.auditRows > before.auditRows
    ? (db.prepare('SELECT action FROM audit ORDER BY id DESC LIMIT ?').all(after.auditRows - before.auditRows) as { action: string }[])
      .filter((row) => !attemptActions.has(row.action)).map((row) => `audit row ${row.action}`)
    : [];
  return [...changed, ...added, ...removed, ...audit];
}
