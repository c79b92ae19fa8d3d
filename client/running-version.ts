// The version the device runs when the agent starts (DESIGN.md, "Device agent": `version`, or
// `versionFile`, a file read at each start). The rollback defence compares every offer with
// it, so it must be the truth, never a default.
import type { AgentConfig } from './config.js';
import { readStateFile, type AgentStateFile } from './state-file.js';

/**
 * The state file, with the version file's word when no update is in flight (`corrected`: the
 * version the record said instead). A configured
 * `version` is a factory version: it only starts the record, which the agent's commits keep
 * from then on. A version file belongs to the running image (on an A/B system each slot's
 * root file system carries its own), so it also knows of a re-flash or a rescue done without
 * sluice. In the middle of an update the journal knows better: the new slot may be running
 * its health check and is not committed yet.
 */
export function startingState(config: AgentConfig): { state: AgentStateFile; corrected: string | null } {
  const state = readStateFile(config.dataDir, config.version);
  if (!config.versionFile || state.journal.state !== 'idle' || state.device.version === config.version) return { state, corrected: null };
  return { state: { ...state, device: { ...state.device, version: config.version } }, corrected: state.device.version };
}
