// The device API (DESIGN.md): check-in answered with a signed document, and the reports of
// every agent transition. Kept apart from the operator API, as hawkBit does.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies } from '../http/schemas.js';
import { requireDevice } from '../auth/principal.js';
import { createPresenceWriter } from '../storage/presence.js';
import { answerCheckin } from '../services/checkin.js';
import { recordDeviceReport } from '../services/device-events.js';
import { agentStates } from '../../client/states.js';

const Signature = Type.Object({ keyid: Type.String(), sig: Type.String() });
const SignedCheckin = Type.Object({ signed: Type.Object({}, { additionalProperties: true }), signatures: Type.Array(Signature) });

const deviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  // Child plugins close before the root instance closes the store, so this last flush
  // still has it.
  const presence = createPresenceWriter(context.store);
  app.addHook('onClose', async () => presence.close());

  app.post('/api/v1/device/checkin', {
    config: { access: ['device'] },
    schema: {
      tags: ['device'],
      body: Type.Object({
        version: Type.String({ minLength: 1, maxLength: 100 }),
        nonce: Type.String({ pattern: '^[0-9a-f]{16,128}$', description: 'random hex chosen by the device; echoed in the signed answer' }),
        state: Type.Optional(Type.Union(agentStates.map((state) => Type.Literal(state)))),
        assignment: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
      }, { additionalProperties: false }),
      response: { 200: SignedCheckin, ...errorReplies },
    },
  }, async (request, reply) => {
    // The device's row came with its token (authentication plugin): no second read.
    const device = requireDevice(request.principal);
    const now = context.options.now();
    const answer = await answerCheckin(context, device, request.body, now);
    presence.seen(device.id, now, request.body.state ?? null);
    // Already JSON (the signed part is its canonical bytes): sent as it is, not serialized again.
    return reply.type('application/json; charset=utf-8').send(answer);
  });

  app.post('/api/v1/device/events', {
    config: { access: ['device'] },
    schema: {
      tags: ['device'],
      description: 'One agent transition. eventId makes resends from the agent\'s outbox idempotent (204 again, recorded once).',
      body: Type.Object({
        assignment: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
        state: Type.Union(agentStates.map((state) => Type.Literal(state))),
        detail: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
        progress: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
        eventId: Type.Optional(Type.String({ minLength: 8, maxLength: 100 })),
        at: Type.Optional(Type.String({ format: 'date-time' })),
      }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errorReplies },
    },
  }, async (request, reply) => {
    const device = requireDevice(request.principal);
    await recordDeviceReport(context, {
      device: device.id,
      eventId: request.body.eventId ?? `${device.id}:${request.id}:${Date.now()}`,
      assignment: request.body.assignment,
      state: request.body.state,
      detail: request.body.detail,
      progress: request.body.progress,
      // The device's clock may be wrong; keep its time only when it is not in the future.
      at: request.body.at && new Date(request.body.at) <= context.options.now() ? new Date(request.body.at) : undefined,
    });
    return reply.status(204).send(null);
  });
};
export default deviceRoutes;
