// `sluice server [--data-dir DIR] [--port N] [--host H] [--trust root.json] [--database URL] [--trust-proxy CIDR,…]`
import { parseOptions } from './options.js';
import { buildApp } from '../server/app.js';
import { databaseUrlFrom, networkLimit, parseTrustProxy } from '../server/config.js';
import { redactDatabaseUrl } from '../server/storage/database-url.js';
import { artifactStoreUrlFrom } from '../server/storage/artifact-stores.js';
import { artifactDeliveryFrom } from '../server/config.js';
import { settingFromFlag } from '../server/config-schema.js';
import { notificationTimingsFrom, serviceHoursFrom, smtpUrlFrom } from '../server/config.js';

export const options = {
  'data-dir': {
    type: 'string',
    value: 'DIR',
    default: 'data',
    description: 'where the SQLite database, artifacts, bundles, keys and admin token live',
  },
  // Read by databaseUrlFrom rather than as an `environment` default, so that a bad URL is
  // refused under the name it came from.
  database: {
    type: 'string',
    value: 'URL',
    shownDefault: '$SLUICE_DATABASE_URL, else SQLite in DIR/sluice.db',
    description: 'sqlite:PATH or postgres://user:pass@host:port/db?sslmode=…',
  },
  port: { type: 'string', value: 'N', default: '8080', environment: 'PORT', description: 'the port to listen on (0: any free port)' },
  host: { type: 'string', value: 'H', default: '127.0.0.1', description: 'the address to listen on (0.0.0.0 for every interface)' },
  trust: {
    type: 'string',
    value: 'FILE',
    shownDefault: 'none: the newest root in the database',
    description: 'a root.json to trust; a newer version is adopted as a rotation',
  },
  'server-key': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'DIR/keys/server.key, none with --trust',
    description: "the online key of root.json's server role, which signs check-in answers; required with --trust",
  },
  'trust-proxy': {
    type: 'string',
    value: 'LIST',
    shownDefault: 'none: forwarded headers are ignored',
    description: 'comma-separated addresses or CIDRs of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed',
  },
  'public-url': {
    type: 'string',
    value: 'URL',
    shownDefault: "the request's own scheme and host",
    description: 'the base URL of absolute links given to DDI clients, behind a proxy',
  },
  'poll-seconds': { type: 'string', value: 'N', shownDefault: '300', description: 'how long devices wait between check-ins' },
  'artifact-store': {
    type: 'string',
    value: 'URL',
    shownDefault: '$SLUICE_ARTIFACT_STORE, else DIR/artifacts and DIR/bundles',
    description:
      's3://BUCKET/PREFIX: artifacts and bundles in an S3-compatible bucket, reached with AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  },
  'artifact-delivery': {
    type: 'string',
    value: 'MODE',
    shownDefault: 'stream, or x-accel-redirect with --x-accel-prefix',
    description: 'stream (Node sends the bytes), x-accel-redirect (nginx does) or redirect (a 307 to a pre-signed URL of the object store)',
  },
  'presign-seconds': {
    type: 'string',
    value: 'N',
    shownDefault: '300',
    description: 'how long a pre-signed artifact URL stays valid, with --artifact-delivery redirect',
  },
  'x-accel-prefix': {
    type: 'string',
    value: 'PATH',
    shownDefault: 'none: Node streams the bytes',
    description: 'hand artifact transfers to nginx with X-Accel-Redirect: PATH/<file>',
  },
  'signing-threads': {
    type: 'string',
    value: 'N',
    shownDefault: '1 on a machine with more than one core, else 0',
    description: 'worker threads that sign check-in answers; 0 signs on the event loop',
  },
  'headers-timeout': {
    type: 'string',
    value: 'SECONDS',
    shownDefault: '20',
    description: "how long a client may take to send a request's headers; a trickle is cut off",
  },
  'request-timeout': {
    type: 'string',
    value: 'SECONDS',
    shownDefault: '60',
    description:
      'how long a request or its answer may stall with no byte moving (not a total: a slow upload that keeps moving is never cut off)',
  },
  'keep-alive-timeout': {
    type: 'string',
    value: 'SECONDS',
    shownDefault: '5',
    description: 'how long an idle keep-alive connection stays open; behind a load balancer, more than its idle timeout',
  },
  'max-connections': {
    type: 'string',
    value: 'N',
    shownDefault: 'from the open-file limit, at most 10000',
    description: 'connections open at once; more are closed as they arrive',
  },
  smtp: {
    type: 'string',
    value: 'URL',
    shownDefault: 'none: no e-mail',
    description: 'smtp://host:port (or smtps://) of the relay notification e-mail goes through',
  },
  'mail-from': {
    type: 'string',
    value: 'ADDRESS',
    shownDefault: 'sluice@localhost',
    description: 'the From address of notification e-mail',
  },
  'service-hours': {
    type: 'string',
    value: 'SPEC',
    shownDefault: 'Mon-Fri 08:00-17:00 UTC',
    description: 'when C and D fault clocks count: "Mon-Fri 08:00-17:00 Europe/Madrid", optionally "holidays 2026-12-25,2027-01-01"',
  },
  'notification-lease': {
    type: 'string',
    value: 'SECONDS',
    shownDefault: '10',
    description: "how long the notification worker's lease lasts: another process takes over this long after one dies",
  },
  'notification-claim': {
    type: 'string',
    value: 'SECONDS',
    shownDefault: '10',
    description: 'how long a delivery attempt is hidden from a retry (it then times out a second earlier, at most 5 s)',
  },
  quiet: { type: 'boolean', default: false, description: 'no request log' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  // Each flag's text becomes its value through the settings' schema, refused naming the flag.
  const port = settingFromFlag('port', values.port) as number;
  const signingThreads = settingFromFlag('signingThreads', values['signing-threads']) as number | undefined;
  if (values.trust && !values['server-key']) {
    throw new Error("--trust needs --server-key: the online key of root.json's server role, which signs check-in answers");
  }
  const databaseUrl = databaseUrlFrom(values.database);
  const limit = (name: Parameters<typeof networkLimit>[0], given: string | undefined) =>
    given === undefined ? undefined : networkLimit(name, given);
  const app = await buildApp({
    dataDir: values['data-dir'],
    databaseUrl,
    port,
    host: values.host,
    trustRootPath: values.trust,
    serverKeyPath: values['server-key'],
    publicUrl: values['public-url'],
    trustProxy: values['trust-proxy'] === undefined ? undefined : parseTrustProxy(values['trust-proxy']),
    pollSeconds: settingFromFlag('pollSeconds', values['poll-seconds']),
    artifactStoreUrl: artifactStoreUrlFrom(values['artifact-store']),
    artifactDelivery: artifactDeliveryFrom({
      mode: values['artifact-delivery'],
      xAccelPrefix: values['x-accel-prefix'],
      presignSeconds: values['presign-seconds'],
    }),
    signingThreads,
    headersTimeoutSeconds: limit('headersTimeoutSeconds', values['headers-timeout']),
    requestTimeoutSeconds: limit('requestTimeoutSeconds', values['request-timeout']),
    keepAliveTimeoutSeconds: limit('keepAliveTimeoutSeconds', values['keep-alive-timeout']),
    maxConnections: limit('maxConnections', values['max-connections']),
    smtpUrl: values.smtp === undefined ? undefined : smtpUrlFrom(values.smtp),
    mailFrom: values['mail-from'],
    serviceHours: values['service-hours'] === undefined ? undefined : serviceHoursFrom(values['service-hours']),
    notificationWorker: notificationTimingsFrom(values['notification-lease'], values['notification-claim']),
    logger: !values.quiet,
  } as Parameters<typeof buildApp>[0]);
  for (const message of app.bootstrapReport.messages) process.stderr.write(`sluice: ${message}\n`);
  const address = await app.listen({ port, host: values.host });
  const database = databaseUrl ? `; database ${redactDatabaseUrl(databaseUrl)}` : '';
  const artifacts = app.sluice.artifacts.kind === 'filesystem' ? '' : `; artifacts in ${app.sluice.artifacts.location}`;
  process.stderr.write(
    `sluice: listening on ${address} (data in ${app.sluice.options.dataDir}${database}${artifacts}; API docs at ${address}/docs)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  return 0;
}
