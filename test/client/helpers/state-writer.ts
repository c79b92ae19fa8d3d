// A child process that rewrites the agent's state file as fast as it can, alternating between
// two whole states, until it is killed: the parent checks that a kill never leaves half of one.
import { writeStateFile, readStateFile } from '../../../client/state-file.js';

const dataDir = process.argv[2];
const padding = 'x'.repeat(64 * 1024); // big enough that a non-atomic write could be caught mid-way
let state = readStateFile(dataDir, '1.0.0');
process.stdout.write('ready\n');
for (let round = 0; ; round++) {
  const committed = round % 2 === 1;
  state = {
    ...state,
    device: committed ? { version: '2.0.0', activeSlot: 'b' } : { version: '1.0.0', activeSlot: 'a' },
    journal: { ...state.journal, state: committed ? 'committed' : 'health_check', detail: padding, updatedAt: new Date().toISOString() },
  };
  writeStateFile(dataDir, state);
}
