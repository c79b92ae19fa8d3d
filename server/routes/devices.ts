import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import semver from 'semver';
import {
  CreatedDevice,
  CreateDevice,
  Device,
  DeviceQuery,
  DeviceToken,
  DeviceTokensRevoked,
  DeviceWithHistory,
  errors,
  IdParams,
  type DeviceEventType,
  type DeviceType,
} from '../../protocol/index.js';
import type { Device as DeviceRecord, DeviceEvent as DeviceEventRecord } from '../storage/repositories/records.js';
import { actorOf, assertCustomerScope, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

export const toDevice = (device: DeviceRecord): DeviceType => ({
  id: device.id,
  customer: device.customer,
  product: device.product,
  hardware: device.hardware,
  version: device.version,
  state: device.state,
  lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
  createdAt: device.createdAt.toISOString(),
});
const toDeviceEvent = (event: DeviceEventRecord): DeviceEventType => ({
  eventId: event.eventId,
  assignment: event.assignment,
  plan: event.plan,
  release: event.release,
  state: event.state,
  detail: event.detail,
  progress: event.progress,
  at: event.at.toISOString(),
  receivedAt: event.receivedAt.toISOString(),
});

const devicesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, events, options } = app.sluice;
  app.post(
    '/api/v1/devices',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['fleet'],
        summary: 'Register a device (its token is shown once)',
        body: CreateDevice,
        response: { 201: CreatedDevice, ...errors(400, 401, 403, 409, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const input = request.body;
      if (!semver.valid(input.version)) throw new SluiceError('validation_failed', `version "${input.version}" is not semver`);
      const now = options.now();
      const created = await store.transaction(async (tx) => {
        if (!(await tx.customers.get(input.customer))) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
        if (!(await tx.products.get(input.product))) throw new SluiceError('unknown_product', `no product "${input.product}"`);
        const device = await tx.devices.create(input, now);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'device.create',
          subject: `device:${device.id}`,
          details: { customer: input.customer, product: input.product },
        });
        // A plan under way for its customer and product takes it in (its last wave), in the same transaction.
        await events.emit('device.created', { device: device.id, at: now }, tx);
        return device;
      });
      return reply.status(201).send(created);
    },
  );
  app.get(
    '/api/v1/devices',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['fleet'],
        summary: 'List the fleet',
        querystring: DeviceQuery,
        response: { 200: Type.Array(Device), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const scope = customerScope(request.principal);
      if (scope && request.query.customer && request.query.customer !== scope) return [];
      return (await store.devices.list({ customer: scope ?? request.query.customer, product: request.query.product })).map(toDevice);
    },
  );
  app.get(
    '/api/v1/devices/:id',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['fleet'],
        summary: 'One device and its history of reports',
        params: IdParams,
        response: { 200: DeviceWithHistory, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const device = await store.devices.get(request.params.id);
      if (!device) throw new SluiceError('not_found', `no device "${request.params.id}"`);
      assertCustomerScope(request.principal, device.customer);
      return { device: toDevice(device), history: (await store.devices.history(device.id)).map(toDeviceEvent) };
    },
  );

  // A device's credentials, as Mender's re-authorisation: a new token (the old ones stop
  // working at once; give the new one to the agent's `token`/`tokenFile`), or none at all.
  app.post(
    '/api/v1/devices/:id/token',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['fleet'],
        summary: "Rotate a device's token",
        description: "Rotate: revoke the device's tokens and issue a new one (shown once).",
        params: IdParams,
        response: { 201: DeviceToken, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const now = options.now();
      const issued = await store.transaction(async (tx) => {
        const rotated = await tx.devices.rotateToken(request.params.id, now);
        if (!rotated) throw new SluiceError('not_found', `no device "${request.params.id}"`);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'device.token.rotate',
          subject: `device:${request.params.id}`,
          details: { revoked: rotated.revoked },
        });
        return rotated;
      });
      return reply.status(201).send({ id: request.params.id, token: issued.token, revoked: issued.revoked });
    },
  );
  app.delete(
    '/api/v1/devices/:id/token',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['fleet'],
        summary: "Revoke a device's tokens",
        description: 'Revoke every token of the device: it can no longer check in until given a new one.',
        params: IdParams,
        response: { 200: DeviceTokensRevoked, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const now = options.now();
      const revoked = await store.transaction(async (tx) => {
        if (!(await tx.devices.get(request.params.id))) throw new SluiceError('not_found', `no device "${request.params.id}"`);
        const count = await tx.devices.revokeTokens(request.params.id, now);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'device.token.revoke',
          subject: `device:${request.params.id}`,
          details: { revoked: count },
        });
        return count;
      });
      return { id: request.params.id, revoked };
    },
  );
};
export default devicesRoutes;
