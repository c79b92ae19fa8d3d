// `sluice simulate --server URL --token T --devices N`: virtual devices for demos and load.
import { parseOptions } from './options.js';
import { setMaxListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareSimulation, summarize } from '../client/simulation.js';

export const options = {
  server: { type: 'string', value: 'URL', required: true, description: "the server's base URL" },
  token: { type: 'string', value: 'T', required: true, description: 'an admin or support token, to register the devices' },
  devices: { type: 'string', value: 'N', default: '10', description: 'how many virtual devices' },
  customer: { type: 'string', value: 'ID', default: 'sim', description: 'the customer the devices belong to' },
  product: { type: 'string', value: 'ID', default: 'emu', description: "the devices' product" },
  hardware: { type: 'string', value: 'ID', default: 'emu-hw-1', description: "the devices' hardware id" },
  version: { type: 'string', value: 'V', default: '1.0.0', description: 'the version the devices start from' },
  prefix: { type: 'string', value: 'TEXT', default: 'sim-', description: 'device ids are this prefix and a number' },
  'data-dir': {
    type: 'string',
    value: 'DIR',
    shownDefault: 'sluice-simulation in the temporary directory',
    description: 'where the devices keep their state and slots',
  },
  'failure-rate': { type: 'string', value: 'SHARE', default: '0', description: 'share of health checks that fail, 0 to 1' },
  duration: { type: 'string', value: 'S', default: '0', description: 'stop after this many seconds; 0 runs until interrupted' },
  'until-version': { type: 'string', value: 'V', description: 'stop once every device runs this version and has reported everything' },
  connections: {
    type: 'string',
    value: 'N',
    default: '1000',
    description: 'connections the devices share for check-ins and reports, and as many for downloads',
  },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.server || !values.token)
    throw new Error('--server URL and --token T (an admin or support token, to register the devices) are required');
  const devices = Number(values.devices);
  if (!Number.isInteger(devices) || devices < 1) throw new Error('--devices must be a positive whole number');
  const connections = Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1) throw new Error('--connections must be a positive whole number');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} simulate: ${line}\n`);
  const agents = await prepareSimulation({
    server: values.server,
    token: values.token,
    devices,
    dataDir: values['data-dir'] ?? join(tmpdir(), 'sluice-simulation'),
    customer: values.customer!,
    product: values.product!,
    hardware: values.hardware!,
    version: values.version!,
    prefix: values.prefix!,
    failureRate: Number(values['failure-rate']),
    connections,
    log,
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
    if (
      target &&
      agents.every(
        (agent) => agent.state.journal.state === 'idle' && agent.state.device.version === target && agent.outbox.pending().length === 0,
      )
    )
      controller.abort();
  }, 1000);
  await Promise.all(agents.map((agent) => agent.run(controller.signal)));
  clearInterval(reporter);
  log(`final: ${JSON.stringify(summarize(agents))}`);
  return 0;
}
