// `sluice agent status --config agent.json`: the running version, the active slot, the journal.
import { parseOptions } from './options.js';
import { loadConfig } from '../client/config.js';
import { startingState } from '../client/running-version.js';
import { Outbox } from '../client/outbox.js';

export const options = {
  config: { type: 'string', value: 'FILE', required: true, description: "the agent's configuration file" },
  json: { type: 'boolean', default: false, description: 'print one JSON object, for machines' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseOptions(options, argv);
  if (!values.config) throw new Error('--config agent.json is required');
  const config = loadConfig(values.config);
  // What the agent will run from when it starts, version file included.
  const { state } = startingState(config);
  const pending = new Outbox(config.dataDir).pending().length;
  const last = state.lastUpdate ?? null;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ deviceId: config.deviceId, ...state.device, state: state.journal.state, assignment: state.journal.assignment?.id ?? null, detail: state.journal.detail, lastUpdate: last, pendingReports: pending })}\n`,
    );
    return 0;
  }
  const outcomeWords = { committed: 'committed', rolled_back: 'rolled back', failed: 'failed' } as const;
  process.stdout.write(
    [
      `device:      ${config.deviceId}`,
      `version:     ${state.device.version}`,
      `active slot: ${state.device.activeSlot} (${config.slots[state.device.activeSlot]})`,
      `state:       ${state.journal.state}${state.journal.assignment ? ` (assignment ${state.journal.assignment.id}, release ${state.journal.assignment.version})` : ''}`,
      ...(state.journal.detail && state.journal.state !== 'idle' ? [`detail:      ${state.journal.detail}`] : []),
      last
        ? `last update: ${last.version} (release ${last.release}) ${outcomeWords[last.outcome]} at ${last.at}${last.detail ? `: ${last.detail}` : ''}; running ${last.runningVersion}`
        : 'last update: none yet',
      `unsent reports: ${pending}`,
    ].join('\n') + '\n',
  );
  return 0;
}
