// Whether a device may download a release's artifact (DESIGN.md: staff, assigned devices).
// Until upgrade plans exist no device is assigned anything, so this denies; the plans
// feature replaces the query with "the device is in a confirmed plan of this release".
import type { Db } from './database.js';

export function deviceMayDownload(_db: Db, _device: string, _release: string): boolean {
  return false;
}
