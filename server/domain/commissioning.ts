// A commissioning (debugging) plan: remote or on site, date, equipment, services, engineers.
// It follows the upgrade plan's lifecycle and document (server/domain/plans.ts) rather than
// a copy of them; this module only checks its own details.
import { SluiceError } from '../errors.js';

export interface CommissioningDetails {
  mode: 'remote' | 'on_site';
  date: string;
  equipment: { type: string; count: number }[];
  services: string[];
  engineers: { name: string; phone?: string }[];
}

export function validateCommissioning(input: CommissioningDetails, now: Date): CommissioningDetails {
  const fail = (field: string, why: string) => {
    throw new SluiceError('validation_failed', `${field} ${why}`);
  };
  if (Number.isNaN(Date.parse(input.date))) fail('date', 'must be a date-time');
  if (new Date(input.date) <= now) fail('date', 'must be in the future');
  if (input.equipment.length === 0) fail('equipment', 'must list at least one type of equipment');
  if (input.engineers.length === 0) fail('engineers', 'must name at least one engineer');
  return input;
}
