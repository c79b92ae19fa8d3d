// The checks on an offered update before a byte is downloaded (DESIGN.md, "Trust model";
// docs/device-protocol.md, "The offered update"), over a manifest that has verified against
// the release role (hence VerifiedManifest). Only the release keys' word counts here: the check-in answer is
// signed by the online server key, and a thief of that key must not be able to choose what
// runs on the device.
import semver from 'semver';
import type { VerifiedManifest } from '../signing/trust-store.js';
import { AgentError } from './errors.js';

export interface RunningDevice {
  product: string;
  hardware: string;
  version: string;
}

/** Throws the AgentError that refuses the offer; otherwise says whether it goes back in version. */
export function checkOffer(manifest: VerifiedManifest, planSaysDowngrade: boolean, device: RunningDevice): { downgrade: boolean } {
  if (manifest.product !== device.product) {
    throw new AgentError('product_mismatch', `the release is for ${manifest.product}; this device is ${device.product}`);
  }
  if (!manifest.hardware.includes(device.hardware)) {
    throw new AgentError('hardware_mismatch', `the release is for ${manifest.hardware.join(', ')}; this device is ${device.hardware}`);
  }
  // Even for a downgrade: installing what already runs, again and again, is a rollback too.
  if (semver.eq(manifest.version, device.version)) throw new AgentError('up_to_date', `already running ${manifest.version}`);
  const downgrade = semver.lt(manifest.version, device.version);
  // Going back takes both the plan's word and the release engineers' signed one.
  if (downgrade && !(planSaysDowngrade && manifest.downgrade === true)) {
    throw new AgentError('version_not_newer', `the release ${manifest.version} is not newer than the running ${device.version}`);
  }
  if (manifest.replaces !== undefined && !semver.satisfies(device.version, manifest.replaces)) {
    throw new AgentError(
      'replaces_mismatch',
      `the release ${manifest.version} replaces only ${manifest.replaces}; this device runs ${device.version}`,
    );
  }
  if (manifest.minVersion && semver.lt(device.version, manifest.minVersion)) {
    throw new AgentError(
      'version_below_minimum',
      `the release ${manifest.version} needs at least ${manifest.minVersion}; this device runs ${device.version}`,
    );
  }
  return { downgrade };
}
