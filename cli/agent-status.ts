// `sluice agent status --config agent.json`: the running version, the active slot, the journal.
import { parseArgs } from 'node:util';
import { loadConfig } from '../client/config.js';
import { readStateFile } from '../client/state-file.js';
import { Outbox } from '../client/outbox.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.config) throw new Error('--config agent.json is required');
  const config = loadConfig(values.config);
  const state = readStateFile(config.dataDir, config.version);
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
