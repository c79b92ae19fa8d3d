// Remote support sessions: requested by support, inert until the device's customer consents
// (with an expiry), refused or withdrawn by the customer; the device uploads one bundle only
// while consent is live; support downloads it. Every step is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { mkdirSync, createReadStream, rmSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { errorReplies, Identifier, IdParams } from '../http/schemas.js';
import { actorOf, assertCustomerScope, customerScope, requireDevice, requireUser } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { multipartError, requireMultipart } from '../http/multipart.js';
import { recordAudit } from '../audit.js';
import { getDevice } from '../storage/identity.js';
import { collectorsSchema, sessionView, decideSession, type SessionRow } from '../services/support-sessions.js';
import { isConsentLive, transitionSession, type SessionEvent } from '../domain/support-sessions.js';

const SessionReply = Type.Object({ id: Type.String(), status: Type.String() }, { additionalProperties: true });
export const maxBundleBytes = 20 * 1024 * 1024;

const supportSessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { db, options } = context;
  const bundles = join(options.dataDir, 'bundles');
  mkdirSync(bundles, { recursive: true });
  const load = (id: string) => db.prepare('SELECT * FROM support_sessions WHERE id = ?').get(id) as SessionRow | undefined;
  const visible = (principal: Parameters<typeof assertCustomerScope>[0], id: string) => {
    const row = load(id);
    if (!row) throw new SluiceError('not_found', `no support session "${id}"`);
    assertCustomerScope(principal, row.customer);
    return row;
  };

  // Only while consent is live does the check-in ask the device for diagnostics.
  context.diagnosticsRequest = (device, now) => {
    const rows = db.prepare("SELECT * FROM support_sessions WHERE device = ? AND status = 'consented' ORDER BY requested_at").all(device) as SessionRow[];
    const live = rows.find((row) => isConsentLive({ status: row.status, expiresAt: row.expires_at ? new Date(row.expires_at) : null }, now));
    return live ? { session: live.id, collect: JSON.parse(live.collect) } : null;
  };

  app.post('/api/v1/support-sessions', {
    config: { access: ['support', 'admin'] },
    schema: {
      tags: ['remote support'],
      body: Type.Object({ device: Identifier, reason: Type.String({ minLength: 1, maxLength: 2000 }), collect: collectorsSchema }, { additionalProperties: false }),
      response: { 201: SessionReply, ...errorReplies },
    },
  }, async (request, reply) => {
    const device = getDevice(db, request.body.device);
    if (!device) throw new SluiceError('unknown_device', `no device "${request.body.device}"`);
    const now = options.now();
    const id = randomUUID();
    db.transaction(() => {
      db.prepare(`INSERT INTO support_sessions (id, device, customer, reason, collect, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?)`)
        .run(id, device.id, device.customer, request.body.reason, JSON.stringify([...new Set(request.body.collect)]), actorOf(request.principal), now.toISOString());
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'support.request', subject: `support-session:${id}`, details: { device: device.id, reason: request.body.reason, collect: request.body.collect } });
    })();
    return reply.status(201).send(sessionView(load(id)!, now));
  });

  app.get('/api/v1/support-sessions', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['remote support'], response: { 200: Type.Array(SessionReply), ...errorReplies } },
  }, async (request) => {
    const scope = customerScope(request.principal);
    const rows = (scope ? db.prepare('SELECT * FROM support_sessions WHERE customer = ? ORDER BY requested_at DESC').all(scope) : db.prepare('SELECT * FROM support_sessions ORDER BY requested_at DESC LIMIT 1000').all()) as SessionRow[];
    const now = options.now();
    return rows.map((row) => sessionView(row, now));
  });

  app.get('/api/v1/support-sessions/:id', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['remote support'], params: IdParams, response: { 200: SessionReply, ...errorReplies } },
  }, async (request) => sessionView(visible(request.principal, request.params.id), options.now()));

  for (const event of ['consent', 'refuse', 'withdraw'] as const satisfies readonly SessionEvent[]) {
    app.post(`/api/v1/support-sessions/:id/${event}`, {
      config: { access: ['customer'] },
      schema: {
        tags: ['remote support'], params: IdParams,
        body: Type.Object({ hours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 14, description: 'consent lifetime, default 24' })) }, { additionalProperties: false }),
        response: { 200: SessionReply, ...errorReplies },
      },
    }, async (request) => {
      const user = requireUser(request.principal);
      const now = options.now();
      decideSession(context, request.params.id, user.customer!, event, actorOf(user), request.body.hours);
      return sessionView(load(request.params.id)!, now);
    });
  }

  app.get('/api/v1/support-sessions/:id/bundle', {
    config: { access: ['support', 'admin'] },
    schema: { tags: ['remote support'], params: IdParams, response: { 200: Type.Any(), ...errorReplies } },
  }, async (request, reply) => {
    const row = visible(request.principal, request.params.id);
    if (!row.uploaded_at) throw new SluiceError('not_found', 'the device has not uploaded a bundle for this session');
    recordAudit(db, { at: options.now(), actor: actorOf(request.principal), action: 'support.download', subject: `support-session:${row.id}` });
    return reply.type('application/gzip').header('Content-Disposition', `attachment; filename="diagnostics-${row.device}-${row.id}.json.gz"`).send(createReadStream(join(bundles, `${row.id}.gz`)));
  });

  app.post('/api/v1/device/diagnostics/:id', {
    config: { access: ['device'] },
    schema: { tags: ['device'], params: IdParams, consumes: ['multipart/form-data'], response: { 204: Type.Null(), ...errorReplies } },
  }, async (request, reply) => {
    const device = requireDevice(request.principal);
    const row = load(request.params.id);
    if (!row || row.device !== device.id) throw new SluiceError('not_found', `no support session "${request.params.id}" for this device`);
    const now = options.now();
    // Without live consent the server refuses the upload, before reading a byte of it.
    transitionSession({ status: row.status, expiresAt: row.expires_at ? new Date(row.expires_at) : null }, 'upload', now);
    requireMultipart(request, 'the part "bundle"');
    const file = await request.file({ limits: { fileSize: maxBundleBytes, files: 1 } }).catch((error: unknown) => { throw multipartError(error); });
    if (!file || file.fieldname !== 'bundle') throw new SluiceError('bad_request', 'the multipart part must be named "bundle"');
    const ingested = await context.artifacts.ingest(file.file).catch((error: { code?: string }) => {
      throw error.code === 'FST_REQ_FILE_TOO_LARGE' ? new SluiceError('payload_too_large', `a bundle is at most ${maxBundleBytes} bytes`) : multipartError(error);
    });
    if (file.file.truncated) {
      rmSync(ingested.temporaryPath, { force: true });
      throw new SluiceError('payload_too_large', `a bundle is at most ${maxBundleBytes} bytes`);
    }
    await rename(ingested.temporaryPath, join(bundles, `${row.id}.gz`));
    db.transaction(() => {
      db.prepare("UPDATE support_sessions SET status = 'uploaded', uploaded_at = ?, bundle_sha256 = ?, bundle_size = ? WHERE id = ?").run(now.toISOString(), ingested.sha256, ingested.size, row.id);
      recordAudit(db, { at: now, actor: actorOf(device), action: 'support.upload', subject: `support-session:${row.id}`, details: { size: ingested.size, sha256: ingested.sha256 } });
    })();
    return reply.status(204).send(null);
  });
};
export default supportSessionsRoutes;
