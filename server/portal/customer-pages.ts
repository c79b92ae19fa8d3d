// The customer's side of the portal, scoped to their own customer (plans, devices, faults,
// remote support; one module each under customer/), and the helpers both sides share.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refusal } from './plugin.js';
import type { PortalUser } from './sessions.js';
import { SluiceError } from '../errors.js';
import type { Store } from '../storage/store.js';
import type { Customer } from '../storage/repositories/records.js';
import customerPlanPages from './customer/plans.js';
import customerFaultPages from './customer/faults.js';
import customerSupportPages from './customer/support.js';
import customerDevicePages from './customer/devices.js';

export { localTime } from './time.js';
export { planTitle, waveBars } from './plan-parts.js';

export function requireRole(request: FastifyRequest, reply: FastifyReply, customer: boolean): PortalUser | null {
  if (!request.portal) {
    reply.redirect('/login');
    return null;
  }
  const isCustomer = request.portal.user.role === 'customer';
  if (isCustomer !== customer) {
    refusal(reply, request, 403, 'Not for this account', 'This page is not available to your account.');
    return null;
  }
  return request.portal.user;
}

/** The signed-in customer's own record: its name and time zone. */
export async function customerOf(store: Store, id: string): Promise<Customer> {
  const customer = await store.customers.get(id);
  if (!customer) throw new SluiceError('not_found', 'Your organisation is not known here.');
  return customer;
}

export default async function customerPages(app: FastifyInstance) {
  await app.register(customerPlanPages);
  await app.register(customerFaultPages);
  await app.register(customerSupportPages);
  await app.register(customerDevicePages);
}
