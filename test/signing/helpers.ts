// Keys, roots and manifests for the signing tests, on a fixed clock.
import type { KeyObject } from 'node:crypto';
import { generateKeyPair } from '../../signing/keys.js';
import { createRoot, type Root } from '../../signing/root.js';
import { createManifest, type ReleaseManifest } from '../../signing/manifest.js';

export const now = new Date('2026-11-25T00:00:00Z');
export const nextYear = new Date('2027-11-25T00:00:00Z');

export const newKey = (): KeyObject => generateKeyPair().privateKey;
export const newKeys = (count: number): KeyObject[] => Array.from({ length: count }, newKey);

export function makeRoot(options: {
  version?: number;
  expires?: Date;
  root: KeyObject[];
  rootThreshold?: number;
  release?: KeyObject[];
  releaseThreshold?: number;
  server?: KeyObject[];
}): Root {
  return createRoot({
    version: options.version ?? 1,
    expires: options.expires ?? nextYear,
    roles: {
      root: { keys: options.root, threshold: options.rootThreshold ?? 1 },
      release: { keys: options.release ?? [newKey()], threshold: options.releaseThreshold ?? 1 },
      server: { keys: options.server ?? [newKey()] },
    },
  });
}

export function makeManifest(fields: Partial<ReleaseManifest> = {}): ReleaseManifest {
  return {
    ...createManifest({
      product: 'emu',
      version: '2.0.0',
      hardware: ['emu-hw-1'],
      artifact: { name: 'emu-2.0.0.img', size: 3, sha256: 'a'.repeat(64) },
      createdAt: now.toISOString(),
    }),
    ...fields,
  };
}
