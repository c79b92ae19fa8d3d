import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health } from '../../protocol/index.js';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: { tags: ['ops'], summary: 'Liveness, the database included', security: [], response: { 200: Health } },
    },
    async () => {
      // Liveness includes the database: a process that cannot read its store (here, the one
      // row every answer depends on, the current trust root) is not serving.
      await app.sluice.store.trustRoots.latest();
      return { status: 'ok' as const };
    },
  );
};
export default healthRoutes;
