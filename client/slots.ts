// Two slots (A/B) and where an update's bytes live on the way to one of them (DESIGN.md,
// "Device agent"). The install hook writes into the INACTIVE slot; the switch itself is not a
// file operation here but the atomic write of the state file (state-file.ts) that names the
// new active slot, so a crash leaves either the old slot or the new one active.
import { join } from 'node:path';
import type { AgentConfig } from './config.js';

export type SlotName = 'a' | 'b';

export const otherSlot = (slot: SlotName): SlotName => (slot === 'a' ? 'b' : 'a');

/** Where the download grows (resumable) and where the verified artifact waits for the window. */
export function artifactPaths(dataDir: string, sha256: string) {
  return {
    partial: join(dataDir, 'partial', `${sha256}.part`),
    staged: join(dataDir, 'staged', `${sha256}.bin`),
  };
}

export interface HookSubject {
  sha256: string;
  version: string;
  release: string;
}

/** The hook environment DESIGN.md names: the verified artifact, the slot's directory, the release. */
export function hookEnvironment(config: AgentConfig, subject: HookSubject, slot: SlotName): Record<string, string> {
  return {
    SLUICE_ARTIFACT: artifactPaths(config.dataDir, subject.sha256).staged,
    SLUICE_TARGET_SLOT: config.slots[slot],
    SLUICE_VERSION: subject.version,
    SLUICE_RELEASE: subject.release,
    SLUICE_DEVICE_ID: config.deviceId,
  };
}
