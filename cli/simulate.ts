// `sluice simulate --server URL --token T --devices N`: virtual devices for demos and load.
import { parseArgs } from 'node:util';
import { setMaxListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareSimulation, summarize } from '../client/simulation.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' }, token: { type: 'string' }, devices: { type: 'string', default: '10' },
      customer: { type: 'string', default: 'sim' }, product: { type: 'string', default: 'emu' }, hardware: { type: 'string', default: 'emu-hw-1' },
      version: { type: 'string', default: '1.0.0' }, prefix: { type: 'string', default: 'sim-' }, 'data-dir': { type: 'string' },
      'failure-rate': { type: 'string', default: '0' }, duration: { type: 'string', default: '0' }, 'until-version': { type: 'string' },
      connections: { type: 'string', default: '1000' },
    },
  });
  if (!values.server || !values.token) throw new Error('--server URL and --token T (an admin or support token, to register the devices) are required');
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1) throw new Error('--devices must be a positive whole number');
  const connections = Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1) throw new Error('--connections must be a positive whole number');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} simulate: ${line}\n`);
  const agents = await prepareSimulation({
    server: values.server, token: values.token, devices, dataDir: values['data-dir'] ?? join(tmpdir(), 'sluice-simulation'),
    customer: values.customer!, product: values.product!, hardware: values.hardware!, version: values.version!, prefix: values.prefix!,
    failureRate: Number(values['failure-rate']), connections, log,
  });
  log(`${agents.length} virtual devices ready`);
  const controller = new AbortController();
  // Every virtual device listens for the one stop signal.
  setMaxListeners(agents.length + 10, controller.signal);
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const duration = Number(values.duration);
  if (duration > 0) setTimeout(() => controller.abort(), duration * 1000).unref();
  const reporter = setInterval(() => {
    const counts = summarize(agents);
    log(JSON.stringify(counts));
    const target = values['until-version'];
    if (target && agents.every((agent) => agent.state.journal.state === 'idle' && agent.state.device.version === target && agent.outbox.pending().length === 0)) controller.abort();
  }, 1000);
  await Promise.all(agents.map((agent) => agent.run(controller.signal)));
  clearInterval(reporter);
  log(`final: ${JSON.stringify(summarize(agents))}`);
  return 0;
}
