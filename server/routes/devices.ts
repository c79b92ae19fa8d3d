import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import semver from 'semver';
import { errorReplies, Identifier, IdParams, Nullable } from '../http/schemas.js';
import { createDevice, deviceHistory, getDevice, listDevices, type DeviceRow } from '../storage/identity.js';
import { recordAudit } from '../audit.js';
import { actorOf, assertCustomerScope, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

const Device = Type.Object({
  id: Type.String(), customer: Type.String(), product: Type.String(), hardware: Type.String(), version: Type.String(),
  state: Nullable(Type.String()), lastSeenAt: Nullable(Type.String()), createdAt: Type.String(),
});
const DeviceEvent = Type.Object({
  eventId: Type.String(), assignment: Nullable(Type.String()), plan: Nullable(Type.String()), release: Nullable(Type.String()),
  state: Type.String(), detail: Nullable(Type.String()), progress: Nullable(Type.Number()), at: Type.String(), receivedAt: Type.String(),
});
export const toDevice = (row: DeviceRow) => ({
  id: row.id, customer: row.customer, product: row.product, hardware: row.hardware, version: row.version,
  state: row.state, lastSeenAt: row.last_seen_at, createdAt: row.created_at,
});

const devicesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, options } = app.sluice;
  app.post('/api/v1/devices', {
    config: { access: ['admin', 'support'] },
    schema: {
      tags: ['fleet'],
      body: Type.Object({
        id: Identifier, customer: Identifier, product: Identifier,
        hardware: Type.String({ minLength: 1, maxLength: 100 }),
        version: Type.String({ minLength: 1, maxLength: 100, description: 'semver of the software it runs' }),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), token: Type.String() }), ...errorReplies },
    },
  }, async (request, reply) => {
    if (!semver.valid(request.body.version)) throw new SluiceError('validation_failed', `version "${request.body.version}" is not semver`);
    const now = options.now();
    const created = db.transaction(() => {
      const device = createDevice(db, request.body, now);
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'device.create', subject: `device:${device.id}`, details: { customer: request.body.customer, product: request.body.product } });
      return device;
    })();
    void app.sluice.events.emit('device.created', { device: request.body.id, at: now }, app.sluice.store);
    return reply.status(201).send(created);
  });
  app.get('/api/v1/devices', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['fleet'],
      querystring: Type.Object({ customer: Type.Optional(Identifier), product: Type.Optional(Identifier) }, { additionalProperties: false }),
      response: { 200: Type.Array(Device), ...errorReplies },
    },
  }, async (request) => {
    const scope = customerScope(request.principal);
    if (scope && request.query.customer && request.query.customer !== scope) return [];
    return listDevices(db, { customer: scope ?? request.query.customer, product: request.query.product }).map(toDevice);
  });
  app.get('/api/v1/devices/:id', {
    config: { access: ['staff', 'customer'] },
    schema: {
      tags: ['fleet'],
      params: IdParams,
      response: { 200: Type.Object({ device: Device, history: Type.Array(DeviceEvent) }), ...errorReplies },
    },
  }, async (request) => {
    const row = getDevice(db, request.params.id);
    if (!row) throw new SluiceError('not_found', `no device "${request.params.id}"`);
    assertCustomerScope(request.principal, row.customer);
    const history = deviceHistory(db, row.id).map((event) => ({
      eventId: event.event_id, assignment: event.assignment, plan: event.plan, release: event.release, state: event.state,
      detail: event.detail, progress: event.progress, at: event.at, receivedAt: event.received_at,
    }));
    return { device: toDevice(row), history };
  });
};
export default devicesRoutes;
