// `sluice agent status --config agent.json`: the running version, the active slot, the journal.
import { parseOptions } from './options.js';
import { loadConfig } from '../client/config.js';
import { startingState } from '../client/running-version.js';
import { Outbox } from '../client/outbox.js';

export const options = {
  config: { type: 'string', value: 'FILE', required: true, description: 'the agent\'s configuration file' },
  json: { type: 'boolean', default: false, description: 'print one JSON object, for machines' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.config) throw new Error('--config agent.json is required');
  const config = loadConfig(values.config);
  // What the agent will run from when it starts, version file included.
  const { state } = startingState(config);
  const pending = new Outbox(config.dataDir).pending().length;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ deviceId: config.deviceId, ...state.device, state: state.journal.state, assignment: state.journal.assignment?.id ?? null, detail: state.journal.detail, pendingReports: pending })}\n`);
    return 0;
  }
  process.stdout.write([
    `device:      ${config.deviceId}`,
    `version:     ${state.device.version}`,
    `active slot: ${state.device.activeSlot} (${config.slots[state.device.activeSlot]})`,
    `state:       ${state.journal.state}${state.journal.assignment ? ` (assignment ${state.journal.assignment.id}, release ${state.journal.assignment.version})` : ''}`,
    ...(state.journal.detail ? [`last detail: ${state.journal.detail}`] : []),
    `unsent reports: ${pending}`,
  ].join('\n') + '\n');
  return 0;
}
