// Who is calling. Roles from DESIGN.md: admin, release, support, customer (scoped to one
// customer), and device tokens.
import { SluiceError } from '../errors.js';

export type Role = 'admin' | 'release' | 'support' | 'customer';
export const roles: readonly Role[] = ['admin', 'release', 'support', 'customer'];

export type Principal = { kind: 'user'; id: string; username: string; role: Role; customer: string | null } | DevicePrincipal;

/**
 * A device, with its version and last reported state as read together with its token: the
 * check-in needs them, and one query is cheaper than two on the busiest route.
 */
export interface DevicePrincipal {
  kind: 'device';
  id: string;
  customer: string;
  product: string;
  hardware: string;
  version: string;
  state: string | null;
}

/**
 * Who may call a route: 'anyone', 'device', or user roles; 'staff' is shorthand for
 * admin + release + support. Every /api route must declare one (checked at start-up), so
 * a route without a policy cannot ship (the authorization matrix test reads these too).
 */
export type Access = 'anyone' | 'device' | 'staff' | Role;

export function expandAccess(access: readonly Access[]): Set<string> {
  const allowed = new Set<string>();
  for (const entry of access) {
    if (entry === 'staff') ['admin', 'release', 'support'].forEach((role) => allowed.add(role));
    else allowed.add(entry);
  }
  return allowed;
}

export function principalKey(principal: Principal | null): string {
  if (!principal) return 'anyone';
  return principal.kind === 'device' ? 'device' : principal.role;
}

export function actorOf(principal: Principal | null): string {
  if (!principal) return 'anonymous';
  return principal.kind === 'device' ? `device:${principal.id}` : `user:${principal.username}`;
}

export function requireUser(principal: Principal | null): Extract<Principal, { kind: 'user' }> {
  if (principal?.kind !== 'user') throw new SluiceError('forbidden', 'this action needs a user token');
  return principal;
}

export function requireDevice(principal: Principal | null): Extract<Principal, { kind: 'device' }> {
  if (principal?.kind !== 'device') throw new SluiceError('forbidden', 'this action needs a device token');
  return principal;
}

/** A customer user sees only their own customer's data (DESIGN.md, HTTP API). */
export function assertCustomerScope(principal: Principal | null, customer: string): void {
  if (principal?.kind === 'user' && principal.role === 'customer' && principal.customer !== customer) {
    // 404, not 403: do not confirm that another customer's resource exists.
    throw new SluiceError('not_found', 'not found');
  }
  if (principal?.kind === 'device' && principal.customer !== customer) throw new SluiceError('not_found', 'not found');
}

/** The customer a caller is confined to, or null for staff who see everything. */
export function customerScope(principal: Principal | null): string | null {
  if (principal?.kind === 'user' && principal.role === 'customer') return principal.customer;
  if (principal?.kind === 'device') return principal.customer;
  return null;
}
