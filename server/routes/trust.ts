// Trust roots for devices (DESIGN.md: devices walk versions one by one) and root rotation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors, RootFileParams, RootRotation, RotationReply, SignedRoot } from '../../protocol/index.js';
import { SluiceError } from '../errors.js';
import { actorOf } from '../auth/principal.js';
import type { SignedDocument } from '../../signing/signed.js';
import type { Root } from '../../signing/root.js';

const trustRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { trust, store, options } = app.sluice;
  app.get(
    '/api/v1/trust/root.json',
    {
      config: { access: ['anyone'] },
      schema: { tags: ['trust'], summary: 'The current trust root (root.json)', security: [], response: { 200: SignedRoot } },
    },
    async () => (await trust.current()).document,
  );

  app.get(
    '/api/v1/trust/root/:file',
    {
      config: { access: ['anyone'] },
      schema: {
        tags: ['trust'],
        summary: 'One version of the trust root',
        description: 'Root version N, as /api/v1/trust/root/N.json; devices walk rotations one version at a time.',
        security: [],
        params: RootFileParams,
        response: { 200: SignedRoot, ...errors(400, 404) },
      },
    },
    async (request) => {
      const version = Number(request.params.file.slice(0, -'.json'.length));
      const document = await trust.byVersion(version);
      if (!document) throw new SluiceError('not_found', `no root version ${version}`);
      return document;
    },
  );

  app.post(
    '/api/v1/trust/root',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['trust'],
        summary: 'Rotate the keys: publish the next root',
        description:
          'Rotate keys: the next root version, signed by a threshold of the current root keys and of its own; refused (root_unusable) when already expired or when its server role lacks the key this server signs with.',
        body: RootRotation,
        response: { 201: RotationReply, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const now = options.now();
      const root = await store.transaction(async (tx) => {
        const accepted = await trust.rotate(request.body as unknown as SignedDocument<Root>, now, tx, {
          serverKeyId: app.sluice.checkinSigner?.keyid,
        });
        await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'trust.rotate', subject: `root:${accepted.version}` });
        return accepted;
      });
      return reply.status(201).send({ version: root.version });
    },
  );
};
export default trustRoutes;
