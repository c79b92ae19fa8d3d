// The database URL (--database, SLUICE_DATABASE_URL): sqlite:PATH or a libpq-style
// postgres:// URL whose sslmode means what libpq says, checked against the options node-postgres
// is given (no TLS server needed); a bad URL is refused naming the setting it came from.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDatabaseUrl, redactDatabaseUrl, type DatabaseLocation } from '../../server/storage/database-url.js';
import { poolConfig } from '../../server/storage/postgres/session.js';
import { databaseLocation, openStore } from '../../server/storage/open.js';
import { databaseUrlFrom, resolveOptions } from '../../server/config.js';
import { postgresTestDatabase, postgresUnavailable } from '../helpers/database.js';

const postgres = (url: string) => {
  const location = parseDatabaseUrl(url) as Extract<DatabaseLocation, { kind: 'postgres' }>;
  if (location.kind !== 'postgres') throw new Error('expected postgres');
  return poolConfig(location.connection);
};

t.test('a postgres:// URL: host, port, user, password and database, percent-decoded', async (t) => {
  const config = postgres('postgres://ops%40vendor:p%40ss%3Aword@db.example.com:6543/sluice_prod');
  t.match(config, { host: 'db.example.com', port: 6543, user: 'ops@vendor', password: 'p@ss:word', database: 'sluice_prod', ssl: false });
  t.match(postgres('postgresql://db.example.com/sluice'), { host: 'db.example.com', port: 5432, database: 'sluice', user: undefined });
  t.match(postgres('postgres://[::1]:5433/x'), { host: '::1', port: 5433 });
  t.match(
    postgres('postgres:///sluice?host=/var/run/postgresql'),
    { host: '/var/run/postgresql', database: 'sluice' },
    'a Unix socket, as libpq names it',
  );
  t.match(postgres('postgres://h/x?application_name=sluice-eu&connect_timeout=3'), {
    application_name: 'sluice-eu',
    connectionTimeoutMillis: 3000,
  });
  t.equal(postgres('postgres://h/x').application_name, 'sluice', 'connections are named in pg_stat_activity');
  t.equal(typeof postgres('postgres://h/x').types?.getTypeParser, 'function', 'the pool parses int8 itself');
});

t.test('sslmode as libpq means it', async (t) => {
  t.equal(postgres('postgres://h/x').ssl, false, 'absent: plain TCP, as node-postgres does');
  t.equal(postgres('postgres://h/x?sslmode=disable').ssl, false, 'disable: plain TCP');
  t.same(postgres('postgres://h/x?sslmode=require').ssl, { rejectUnauthorized: false }, 'require: encrypted, the certificate not checked');
  const full = postgres('postgres://h/x?sslmode=verify-full').ssl as Record<string, unknown>;
  t.same(full, { rejectUnauthorized: true }, 'verify-full: the chain and the host name are checked');
  t.notOk('checkServerIdentity' in full, "the host name check is Node's own");

  const directory = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const ca = join(directory, 'root.crt');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const verifyCa = postgres(`postgres://h/x?sslmode=verify-ca&sslrootcert=${ca}`).ssl as {
    ca: string;
    rejectUnauthorized: boolean;
    checkServerIdentity: () => unknown;
  };
  t.equal(verifyCa.ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'verify-ca: the root certificate is read');
  t.equal(verifyCa.rejectUnauthorized, true, 'and the chain is checked');
  t.equal(verifyCa.checkServerIdentity(), undefined, 'but not the host name');
  const requireWithCa = postgres(`postgres://h/x?sslmode=require&sslrootcert=${ca}`).ssl as {
    rejectUnauthorized: boolean;
    checkServerIdentity?: () => unknown;
  };
  t.equal(requireWithCa.rejectUnauthorized, true, 'require with a root certificate checks the chain, as libpq does');
  const client = join(directory, 'client.crt');
  const key = join(directory, 'client.key');
  writeFileSync(client, 'CERT');
  writeFileSync(key, 'KEY');
  t.match(
    postgres(`postgres://h/x?sslmode=verify-full&sslcert=${client}&sslkey=${key}`).ssl,
    { cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
    'a client certificate',
  );
  t.throws(
    () => parseDatabaseUrl(`postgres://h/x?sslmode=verify-full&sslrootcert=${join(directory, 'absent.crt')}`),
    /--database names sslrootcert=.*absent\.crt, which cannot be read/,
  );
  t.throws(() => parseDatabaseUrl(`postgres://h/x?sslmode=disable&sslrootcert=${ca}`), /TLS files with sslmode=disable/);
});

t.test('refusals name the option, and never show the password', async (t) => {
  const cases: [string, RegExp][] = [
    ['mysql://root@h/x', /must be sqlite:PATH or postgres:\/\/user:password@host:port\/database/],
    ['/var/lib/sluice.db', /must be sqlite:PATH or postgres:\/\//],
    ['sqlite:', /must name a file after sqlite:/],
    ['postgres://u:secret@h/x?sslmode=prefer', /sslmode=prefer, which falls back to unencrypted connections/],
    ['postgres://u:secret@h/x?sslmode=allow', /sslmode=allow/],
    ['postgres://u:secret@h/x?sslmode=verify', /sslmode=verify; use disable, require, verify-ca or verify-full/],
    ['postgres://u:secret@h/x?pool=5', /the parameter "pool", which sluice does not know/],
    ['postgres://u:secret@h:99999/x', /is not a valid URL|port/],
    ['postgres://u:secret@h/x?port=0', /the port "0"/],
    ['postgres://u:secret@h/x?connect_timeout=soon', /connect_timeout=soon: whole seconds/],
    ['postgres://u:secret@h/a/b', /one database/],
  ];
  for (const [url, message] of cases) {
    const error = (() => {
      try {
        parseDatabaseUrl(url, 'SLUICE_DATABASE_URL');
        return null;
      } catch (thrown) {
        return thrown as Error;
      }
    })();
    t.ok(error, `${url} refused`);
    t.match(error?.message, message, url);
    t.match(error?.message, /^SLUICE_DATABASE_URL /, `${url}: names the setting`);
    t.notMatch(error?.message ?? '', /secret/, `${url}: the password is not shown`);
  }
  t.equal(redactDatabaseUrl('postgres://u:secret@h/x'), 'postgres://u:***@h/x');
  t.equal(redactDatabaseUrl('postgres://h/x'), 'postgres://h/x');
});

t.test('sqlite:PATH, and the default: DIR/sluice.db as always', async (t) => {
  t.same(
    parseDatabaseUrl('sqlite:relative/sluice.db'),
    { kind: 'sqlite', path: resolve('relative/sluice.db') },
    'relative to the working directory',
  );
  t.same(parseDatabaseUrl('sqlite:/srv/sluice.db'), { kind: 'sqlite', path: '/srv/sluice.db' });
  t.same(databaseLocation({ dataDir: 'data' }), { kind: 'sqlite', path: resolve('data', 'sluice.db') });
  t.same(
    databaseLocation({ dataDir: 'data', url: '' }),
    { kind: 'sqlite', path: resolve('data', 'sluice.db') },
    'an empty setting is no setting',
  );
});

t.test('the configuration: --database, else SLUICE_DATABASE_URL, each refused by its own name', async (t) => {
  t.equal(databaseUrlFrom(undefined, {}), undefined, 'neither: the default SQLite file');
  t.equal(databaseUrlFrom(undefined, { SLUICE_DATABASE_URL: 'postgres://h/x' }), 'postgres://h/x');
  t.equal(databaseUrlFrom('sqlite:a.db', { SLUICE_DATABASE_URL: 'postgres://h/x' }), 'sqlite:a.db', 'the flag wins');
  t.equal(databaseUrlFrom(undefined, { SLUICE_DATABASE_URL: '' }), undefined, 'an empty variable is unset');
  t.throws(() => databaseUrlFrom('redis://h', {}), /^--database must be/);
  t.throws(() => databaseUrlFrom(undefined, { SLUICE_DATABASE_URL: 'redis://h' }), /SLUICE_DATABASE_URL must be/);
  t.throws(() => resolveOptions({ databaseUrl: 'redis://h' }), /databaseUrl must be/, "buildApp's options are checked too");
  t.equal(resolveOptions({ databaseUrl: 'postgres://h/x' }).databaseUrl, 'postgres://h/x');
});

t.test("openStore: SQLite by default, at the data directory's sluice.db", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-open-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir });
  t.equal(store.dialect, 'sqlite');
  await store.products.create({ id: 'emu', name: 'E' }, new Date());
  await store.close();
  t.ok(existsSync(join(dataDir, 'sluice.db')));
  const elsewhere = join(dataDir, 'nested', 'other.db');
  const other = await openStore({ dataDir, url: `sqlite:${elsewhere}` });
  t.same(await other.products.list(), [], 'sqlite:PATH is another file');
  await other.close();
  t.ok(existsSync(elsewhere), 'its folder is created');
  await t.rejects(openStore({ dataDir, url: 'mongodb://h/x' }), /--database must be sqlite:PATH or postgres/);
});

t.test('openStore: postgres:// migrates an empty database and serves', { skip: (await postgresUnavailable()) ?? false }, async (t) => {
  const { url } = await postgresTestDatabase(t, { empty: true });
  const store = await openStore({ dataDir: tmpdir(), url: url.replace(/^postgres:/, 'postgresql:') });
  t.teardown(() => store.close());
  t.equal(store.dialect, 'postgres');
  t.ok((await store.inspection.tables()).includes('releases'), 'the schema is there');
  await store.products.create({ id: 'emu', name: 'E' }, new Date());
  t.same(
    (await store.products.list()).map((product) => product.id),
    ['emu'],
  );
  await t.rejects(
    openStore({ dataDir: tmpdir(), url: url.replace(/\/[^/]*$/, '/sluice_no_such_database') }),
    /sluice_no_such_database/,
    'a database that does not exist is named',
  );
});
