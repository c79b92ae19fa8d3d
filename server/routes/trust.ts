// Trust roots for devices (DESIGN.md: devices walk versions one by one) and root rotation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies } from '../http/schemas.js';
import { SluiceError } from '../errors.js';
import { actorOf } from '../auth/principal.js';
import type { SignedDocument } from '../../signing/signed.js';
import type { Root } from '../../signing/root.js';

const SignedRoot = Type.Object({
  signed: Type.Object({}, { additionalProperties: true }),
  signatures: Type.Array(Type.Object({ keyid: Type.String(), sig: Type.String() }, { additionalProperties: false }), { maxItems: 64 }),
}, { additionalProperties: false });

const trustRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { trust, store, options } = app.sluice;
  app.get('/api/v1/trust/root.json', {
    config: { access: ['anyone'] },
    schema: { tags: ['trust'], response: { 200: SignedRoot } },
  }, async () => (await trust.current()).document);

  app.get('/api/v1/trust/root/:file', {
    config: { access: ['anyone'] },
    schema: {
      tags: ['trust'],
      description: 'Root version N, as /api/v1/trust/root/N.json',
      params: Type.Object({ file: Type.String({ pattern: '^[0-9]{1,9}\\.json$' }) }),
      response: { 200: SignedRoot, ...errorReplies },
    },
  }, async (request) => {
    const version = Number(request.params.file.slice(0, -'.json'.length));
    const document = await trust.byVersion(version);
    if (!document) throw new SluiceError('not_found', `no root version ${version}`);
    return document;
  });

  app.post('/api/v1/trust/root', {
    config: { access: ['admin'] },
    schema: {
      tags: ['trust'],
      description: 'Rotate keys: the next root version, signed by a threshold of the current root keys and of its own; refused (root_unusable) when already expired or when its server role lacks the key this server signs with.',
      body: SignedRoot,
      response: { 201: Type.Object({ version: Type.Integer() }), ...errorReplies },
    },
  }, async (request, reply) => {
    const now = options.now();
    const root = await store.transaction(async (tx) => {
      const accepted = await trust.rotate(request.body as unknown as SignedDocument<Root>, now, tx, { serverKeyId: app.sluice.checkinSigner?.keyid });
      await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'trust.rotate', subject: `root:${accepted.version}` });
      return accepted;
    });
    return reply.status(201).send({ version: root.version });
  });
};
export default trustRoutes;
