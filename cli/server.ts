// `sluice server [--data-dir DIR] [--port N] [--host H] [--trust root.json] [--database URL]`
import { parseOptions } from './options.js';
import { buildApp } from '../server/app.js';
import { databaseUrlFrom } from '../server/config.js';
import { redactDatabaseUrl } from '../server/storage/database-url.js';

export const options = {
  'data-dir': { type: 'string', value: 'DIR', default: 'data', description: 'where the SQLite database, artifacts, bundles, keys and admin token live' },
  // Read by databaseUrlFrom rather than as an `environment` default, so that a bad URL is
  // refused under the name it came from.
  database: { type: 'string', value: 'URL', shownDefault: '$SLUICE_DATABASE_URL, else SQLite in DIR/sluice.db', description: 'sqlite:PATH or postgres://user:pass@host:port/db?sslmode=…' },
  port: { type: 'string', value: 'N', default: '8080', environment: 'PORT', description: 'the port to listen on (0: any free port)' },
  host: { type: 'string', value: 'H', default: '127.0.0.1', description: 'the address to listen on (0.0.0.0 for every interface)' },
  trust: { type: 'string', value: 'FILE', shownDefault: 'none: the newest root in the database', description: 'a root.json to trust; a newer version is adopted as a rotation' },
  'server-key': { type: 'string', value: 'FILE', shownDefault: 'DIR/keys/server.key, none with --trust', description: 'the online key of root.json\'s server role, which signs check-in answers; required with --trust' },
  'public-url': { type: 'string', value: 'URL', shownDefault: 'the request\'s own scheme and host', description: 'the base URL of absolute links given to DDI clients, behind a proxy' },
  'poll-seconds': { type: 'string', value: 'N', shownDefault: '300', description: 'how long devices wait between check-ins' },
  'x-accel-prefix': { type: 'string', value: 'PATH', shownDefault: 'none: Node streams the bytes', description: 'hand artifact transfers to nginx with X-Accel-Redirect: PATH/<file>' },
  'signing-threads': { type: 'string', value: 'N', shownDefault: '1 on a machine with more than one core, else 0', description: 'worker threads that sign check-in answers; 0 signs on the event loop' },
  quiet: { type: 'boolean', default: false, description: 'no request log' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not "${values.port}"`);
  const signingThreads = values['signing-threads'] === undefined ? undefined : Number(values['signing-threads']);
  if (signingThreads !== undefined && !(Number.isInteger(signingThreads) && signingThreads >= 0 && signingThreads <= 1)) {
    throw new Error(`--signing-threads must be 0 (sign on the event loop) or 1, not "${values['signing-threads']}"`);
  }
  if (values.trust && !values['server-key']) {
    throw new Error('--trust needs --server-key: the online key of root.json\'s server role, which signs check-in answers');
  }
  const databaseUrl = databaseUrlFrom(values.database);
  const app = await buildApp({
    dataDir: values['data-dir'],
    databaseUrl,
    port,
    host: values.host,
    trustRootPath: values.trust,
    serverKeyPath: values['server-key'],
    publicUrl: values['public-url'],
    pollSeconds: values['poll-seconds'] ? Number(values['poll-seconds']) : undefined,
    artifactDelivery: values['x-accel-prefix'] ? { mode: 'x-accel-redirect', internalPrefix: values['x-accel-prefix'] } : undefined,
    signingThreads,
    logger: !values.quiet,
  } as Parameters<typeof buildApp>[0]);
  for (const message of app.bootstrapReport.messages) process.stderr.write(`sluice: ${message}\n`);
  const address = await app.listen({ port, host: values.host });
  const database = databaseUrl ? `; database ${redactDatabaseUrl(databaseUrl)}` : '';
  process.stderr.write(`sluice: listening on ${address} (data in ${app.sluice.options.dataDir}${database}; API docs at ${address}/docs)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  return 0;
}
