// `sluice agent --config agent.json`: runs until SIGTERM or SIGINT (docs/agent.md).
// `--once` runs one cycle (check in, and every step that follows without waiting) and exits:
// 0 when the cycle ended waiting normally, 1 when it ended on an error (printed with its code).
import { parseOptions } from './options.js';
import { loadConfig } from '../client/config.js';
import { createAgent } from '../client/agent.js';
import { AgentError } from '../client/errors.js';

export const options = {
  config: { type: 'string', value: 'FILE', required: true, description: "the agent's configuration file" },
  once: { type: 'boolean', default: false, description: 'run one cycle, then exit: 0 when it ended waiting, 1 on an error' },
  quiet: { type: 'boolean', default: false, description: 'log nothing to stderr' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.config) throw new Error('--config agent.json is required');
  const config = loadConfig(values.config);
  const log = values.quiet
    ? () => {}
    : (line: string) => process.stderr.write(`${new Date().toISOString()} sluice agent ${config.deviceId}: ${line}\n`);
  const agent = createAgent(config, { log });
  log(`running ${agent.state.device.version} from slot ${agent.state.device.activeSlot}; state ${agent.state.journal.state}`);
  if (values.once) {
    const { state, error } = await agent.runOnce();
    if (!error) return 0;
    const code = error instanceof AgentError ? error.code : 'internal';
    process.stderr.write(`sluice agent: ${code}: ${(error as Error).message} (state ${state})\n`);
    return 1;
  }
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  await agent.run(controller.signal);
  return 0;
}
