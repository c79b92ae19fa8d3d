// The device API (DESIGN.md): check-in answered with a signed document, and the reports of
// every agent transition. Kept apart from the operator API, as hawkBit does.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CheckinRequest, DeviceReport, errors, NoContent, SignedCheckinAnswer } from '../../protocol/index.js';
import { requireDevice } from '../auth/principal.js';
import { createPresenceWriter } from '../storage/presence.js';
import type { FastifyRequest } from 'fastify';
import { answerCheckin, checkinByToken } from '../services/checkin.js';
import type { CheckinRead } from '../storage/repositories/records.js';
import { recordDeviceReport } from '../services/device-events.js';

const deviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  // Child plugins close before the root instance closes the store, so this last flush
  // still has it.
  const presence = createPresenceWriter(context.store);
  app.addHook('onClose', async () => presence.close());

  // The check-in read comes with the token (one statement, services/checkin.ts), kept here
  // from the authentication hook to the handler.
  const checkinReads = new WeakMap<FastifyRequest, CheckinRead>();
  const resolveToken = async (token: string, request: FastifyRequest) => {
    const found = await checkinByToken(context.store, token);
    if (found) checkinReads.set(request, found.read);
    return found?.principal ?? null;
  };

  app.post(
    '/api/v1/device/checkin',
    {
      config: { access: ['device'], resolveToken },
      schema: {
        tags: ['device'],
        summary: 'Check in: what the device should do now, signed and bound to its nonce',
        description:
          "The answer is signed by the server's online key (the server role of root.json), names the device, echoes the nonce and expires soon; the agent refuses it otherwise. 409 conflict when the server has no online signing key.",
        body: CheckinRequest,
        response: { 200: SignedCheckinAnswer, ...errors(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      // The device's row and its check-in read came with its token: no second read.
      const device = requireDevice(request.principal);
      const now = context.options.now();
      const answer = await answerCheckin(context, device, request.body, now, checkinReads.get(request));
      presence.seen(device.id, now, request.body.state ?? null);
      // Already JSON (the signed part is its canonical bytes): sent as it is, not serialized again.
      return reply.type('application/json; charset=utf-8').send(answer);
    },
  );

  app.post(
    '/api/v1/device/events',
    {
      config: { access: ['device'] },
      schema: {
        tags: ['device'],
        summary: 'Report an agent transition',
        description: "One agent transition. eventId makes resends from the agent's outbox idempotent (204 again, recorded once).",
        body: DeviceReport,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const device = requireDevice(request.principal);
      await recordDeviceReport(context, {
        device: device.id,
        eventId: request.body.eventId ?? `${device.id}:${request.id}:${Date.now()}`,
        assignment: request.body.assignment,
        state: request.body.state,
        detail: request.body.detail,
        progress: request.body.progress,
        delivery: request.body.delivery,
        // The device's clock may be wrong; keep its time only when it is not in the future.
        at: request.body.at && new Date(request.body.at) <= context.options.now() ? new Date(request.body.at) : undefined,
      });
      return reply.status(204).send(null);
    },
  );
};
export default deviceRoutes;
