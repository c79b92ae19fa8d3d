// `sluice server [--data-dir DIR] [--port N] [--host H] [--trust root.json]`
import { parseArgs } from 'node:util';
import { buildApp } from '../server/app.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: 'data' },
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      trust: { type: 'string' },
      'server-key': { type: 'string' },
      'public-url': { type: 'string' },
      'poll-seconds': { type: 'string' },
      'x-accel-prefix': { type: 'string' },
      'signing-threads': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not "${values.port}"`);
  const signingThreads = values['signing-threads'] === undefined ? undefined : Number(values['signing-threads']);
  if (signingThreads !== undefined && !(Number.isInteger(signingThreads) && signingThreads >= 0 && signingThreads <= 1)) {
    throw new Error(`--signing-threads must be 0 (sign on the event loop) or 1, not "${values['signing-threads']}"`);
  }
  if (values.trust && !values['server-key']) {
    throw new Error('--trust needs --server-key: the online key of root.json\'s server role, which signs check-in answers');
  }
  const app = await buildApp({
    dataDir: values['data-dir'],
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
  process.stderr.write(`sluice: listening on ${address} (data in ${app.sluice.options.dataDir}; API docs at ${address}/docs)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.close();
  return 0;
}
