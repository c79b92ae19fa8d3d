// `sluice agent --config agent.json`: runs until SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import { loadConfig } from '../client/config.js';
import { createAgent } from '../client/agent.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, quiet: { type: 'boolean', default: false } } });
  if (!values.config) throw new Error('--config agent.json is required');
  const config = loadConfig(values.config);
  const log = values.quiet ? () => {} : (line: string) => process.stderr.write(`${new Date().toISOString()} sluice agent ${config.deviceId}: ${line}\n`);
  const agent = createAgent(config, { log });
  log(`running ${agent.state.device.version} from slot ${agent.state.device.activeSlot}; state ${agent.state.journal.state}`);
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  await agent.run(controller.signal);
  return 0;
}
