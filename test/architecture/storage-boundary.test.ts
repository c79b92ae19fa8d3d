// SQL and database drivers live only in server/storage/ (DESIGN.md, "Layout"): every other
// module talks to repositories. This test reads the source, so a statement or a driver import
// that creeps back into a route, a service, the portal, the CLI or the agent fails here.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

function sourceFiles(directory: string): string[] {
  return readdirSync(join(root, directory), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

const driverImport = /from ['"](better-sqlite3|pg|pg-[\w-]+)['"]/;
// A statement as the repositories write them: a keyword followed by what it needs, inside a
// string, in capitals as the repositories write it; prose ("select a window") does not match.
const sqlText = /['"`]\s*(SELECT\s+[\w*(]|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s|BEGIN\b|PRAGMA\s)/;
const driverCalls = /\.(prepare|pragma)\(|\.exec\(\s*['"`]/;

export function offences(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (driverImport.test(line)) found.push(`${file}:${index + 1}: imports a database driver`);
    if (sqlText.test(line)) found.push(`${file}:${index + 1}: SQL text`);
    if (driverCalls.test(line)) found.push(`${file}:${index + 1}: calls the driver`);
  });
  return found;
}

t.test('the detector finds what it is for, and not prose', async (t) => {
  t.equal(offences('x.ts', "import Database from 'better-sqlite3';").length, 1);
  t.equal(offences('x.ts', "import pg from 'pg';").length, 1);
  t.equal(offences('x.ts', "db.prepare('SELECT * FROM plans WHERE id = ?').get(id)").length, 2);
  t.equal(offences('x.ts', 'const sql = `UPDATE plans SET status = ?`;').length, 1);
  t.equal(offences('x.ts', '// select a window, then update the plan').length, 0);
  t.equal(offences('x.ts', "throw new SluiceError('validation_failed', 'select one window')").length, 0);
});

t.test('no SQL or driver outside server/storage/', async (t) => {
  const files = ['server', 'client', 'cli', 'signing'].flatMap(sourceFiles).filter((file) => !file.startsWith(join('server', 'storage')));
  t.ok(files.length > 50, 'the source was found');
  const found = files.flatMap((file) => offences(file, readFileSync(join(root, file), 'utf8')));
  t.same(found, [], 'every statement is in a repository');
});
