// Which devices a release may go to (DESIGN.md, "Trust model": the server enforces the
// manifest too). The agent refuses an offer whose signed manifest does not fit it
// (client/offer.ts); the server must never make that offer in the first place, through
// either device API. One rule, used by plan creation, late joining, the check-in, the DDI
// controller and the artifact routes, so that they cannot disagree. Pure.
import semver from 'semver';

/** The manifest's signed terms that decide whether it fits a device. */
export interface ReleaseTerms {
  product: string;
  version: string;
  hardware: readonly string[];
  minVersion?: string;
  downgrade?: boolean;
  replaces?: string;
}

export interface DeviceFacts {
  product: string;
  hardware: string;
  version: string;
}

/** The same names as the agent's refusals (client/errors.ts), so a log reads the same on both sides. */
export const misfitReasons = [
  'product_mismatch',
  'hardware_mismatch',
  'version_unknown',
  'version_below_minimum',
  'replaces_mismatch',
] as const;
export type MisfitReason = (typeof misfitReasons)[number];

export interface Misfit {
  reason: MisfitReason;
  message: string;
}

/**
 * Why the release does not fit the device, or null when it does. In the agent's order:
 * product, hardware, then the running version: a downgrade must name the versions it may
 * replace and the device must run one of them; `minVersion` holds for every release.
 * Whether the device already runs the version is not a misfit: it simply has nothing to do.
 */
export function releaseMisfit(release: ReleaseTerms, device: DeviceFacts): Misfit | null {
  const name = `${release.product} ${release.version}`;
  if (release.product !== device.product) {
    return { reason: 'product_mismatch', message: `${name} is for the product ${release.product}; the device is a ${device.product}` };
  }
  if (!release.hardware.includes(device.hardware)) {
    return {
      reason: 'hardware_mismatch',
      message: `${name} is signed for hardware ${release.hardware.join(', ')}; the device is ${device.hardware}`,
    };
  }
  const constrained = release.minVersion !== undefined || release.replaces !== undefined || release.downgrade === true;
  if (!constrained) return null;
  if (semver.valid(device.version) === null) {
    return {
      reason: 'version_unknown',
      message: `${name} constrains the running version; the device's version "${device.version}" is not a semantic version`,
    };
  }
  if (release.downgrade === true && release.replaces === undefined) {
    return { reason: 'replaces_mismatch', message: `${name} is a downgrade that names no versions it may replace` };
  }
  if (release.replaces !== undefined && !semver.satisfies(device.version, release.replaces)) {
    return { reason: 'replaces_mismatch', message: `${name} replaces only ${release.replaces}; the device runs ${device.version}` };
  }
  if (release.minVersion !== undefined && semver.lt(device.version, release.minVersion)) {
    return { reason: 'version_below_minimum', message: `${name} needs at least ${release.minVersion}; the device runs ${device.version}` };
  }
  return null;
}

export interface DeviceMisfit extends Misfit {
  device: string;
}

/** Splits devices into those the release fits and those it does not, each with its reason. */
export function sortByFit<Device extends DeviceFacts & { id: string }>(
  release: ReleaseTerms,
  devices: readonly Device[],
): { fitting: Device[]; misfits: DeviceMisfit[] } {
  const fitting: Device[] = [];
  const misfits: DeviceMisfit[] = [];
  for (const device of devices) {
    const misfit = releaseMisfit(release, device);
    if (misfit) misfits.push({ device: device.id, ...misfit });
    else fitting.push(device);
  }
  return { fitting, misfits };
}
