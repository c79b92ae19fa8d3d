// Remote support sessions: requested by support, inert until the device's customer consents
// (with an expiry), refused or withdrawn by the customer; the device uploads one bundle only
// while consent is live; support downloads it. Every step is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { readableOf } from '../storage/artifact-store.js';
import { Binary, DecisionBody, errors, IdParams, NoContent, RequestSession, SupportSession } from '../../protocol/index.js';
import { actorOf, assertCustomerScope, customerScope, requireDevice, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { multipartError, requireMultipart } from '../http/multipart.js';
import {
  decideSession,
  diagnosticsRequestFor,
  listSessions,
  recordUpload,
  requestSession,
  sessionView,
  settleSession,
} from '../services/support-sessions.js';
import { transitionSession, type SessionEvent } from '../domain/support-sessions.js';

export const maxBundleBytes = 20 * 1024 * 1024;

const supportSessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;
  const visible = async (principal: Parameters<typeof assertCustomerScope>[0], id: string) => {
    const session = await store.supportSessions.get(id);
    if (!session) throw new SluiceError('not_found', `no support session "${id}"`);
    assertCustomerScope(principal, session.customer);
    return session;
  };

  // Only while consent is live does the check-in ask the device for diagnostics.
  context.diagnosticsRequest = (device, now) => diagnosticsRequestFor(context, device, now);

  app.post(
    '/api/v1/support-sessions',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['remote support'],
        summary: 'Request a support session for a device (inert until the customer consents)',
        body: RequestSession,
        response: { 201: SupportSession, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const session = await requestSession(context, request.body, actorOf(request.principal));
      return reply.status(201).send(sessionView(session, options.now()));
    },
  );

  app.get(
    '/api/v1/support-sessions',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['remote support'],
        summary: 'List support sessions',
        response: { 200: Type.Array(SupportSession), ...errors(401, 403, 429) },
      },
    },
    async (request) => {
      const now = options.now();
      return (await listSessions(context, customerScope(request.principal), now)).map((session) => sessionView(session, now));
    },
  );

  app.get(
    '/api/v1/support-sessions/:id',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['remote support'],
        summary: 'One support session',
        params: IdParams,
        response: { 200: SupportSession, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const now = options.now();
      return sessionView(await settleSession(context, await visible(request.principal, request.params.id), now), now);
    },
  );

  for (const event of ['consent', 'refuse', 'withdraw'] as const satisfies readonly SessionEvent[]) {
    app.post(
      `/api/v1/support-sessions/:id/${event}`,
      {
        config: { access: ['customer'] },
        schema: {
          tags: ['remote support'],
          params: IdParams,
          summary: { consent: 'Consent to the session (for `hours`)', refuse: 'Refuse the session', withdraw: 'Withdraw a consent' }[event],
          body: DecisionBody,
          response: { 200: SupportSession, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
        },
      },
      async (request) => {
        const user = requireUser(request.principal);
        const session = await decideSession(context, request.params.id, user.customer!, event, actorOf(user), request.body.hours);
        return sessionView(session, options.now());
      },
    );
  }

  app.get(
    '/api/v1/support-sessions/:id/bundle',
    {
      config: { access: ['support', 'admin'] },
      schema: {
        tags: ['remote support'],
        summary: 'Download the diagnostics bundle the device uploaded',
        params: IdParams,
        produces: ['application/gzip'],
        response: { 200: Binary('gzip-compressed JSON'), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const session = await visible(request.principal, request.params.id);
      if (!session.uploadedAt) throw new SluiceError('not_found', 'the device has not uploaded a bundle for this session');
      await store.audit.record({
        at: options.now(),
        actor: actorOf(request.principal),
        action: 'support.download',
        subject: `support-session:${session.id}`,
      });
      return reply
        .type('application/gzip')
        .header('Content-Disposition', `attachment; filename="diagnostics-${session.device}-${session.id}.json.gz"`)
        .send(await readableOf(context.bundles, session.id));
    },
  );

  app.post(
    '/api/v1/device/diagnostics/:id',
    {
      config: { access: ['device'] },
      schema: {
        tags: ['device'],
        summary: "Upload the diagnostics bundle (only with the customer's live consent)",
        params: IdParams,
        consumes: ['multipart/form-data'],
        description:
          'Multipart with one file part "bundle". Refused with 403 consent_required before a byte is read when consent is not live.',
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const device = requireDevice(request.principal);
      const session = await store.supportSessions.get(request.params.id);
      if (!session || session.device !== device.id)
        throw new SluiceError('not_found', `no support session "${request.params.id}" for this device`);
      const now = options.now();
      // Without live consent the server refuses the upload, before reading a byte of it.
      transitionSession(session, 'upload', now);
      requireMultipart(request, 'the part "bundle"');
      const file = await request.file({ limits: { fileSize: maxBundleBytes, files: 1 } }).catch((error: unknown) => {
        throw multipartError(error);
      });
      if (!file || file.fieldname !== 'bundle') throw new SluiceError('bad_request', 'the multipart part must be named "bundle"');
      const ingested = await context.bundles.ingest(file.file, session.id).catch((error: { code?: string }) => {
        throw error.code === 'FST_REQ_FILE_TOO_LARGE'
          ? new SluiceError('payload_too_large', `a bundle is at most ${maxBundleBytes} bytes`)
          : multipartError(error);
      });
      try {
        if (file.file.truncated) throw new SluiceError('payload_too_large', `a bundle is at most ${maxBundleBytes} bytes`);
        await recordUpload(context, session, { sha256: ingested.sha256, size: ingested.size }, actorOf(device), now, async () => {
          await context.bundles.commit(ingested, session.id);
        });
      } finally {
        await context.bundles.discard(ingested);
      }
      return reply.status(204).send(null);
    },
  );
};
export default supportSessionsRoutes;
