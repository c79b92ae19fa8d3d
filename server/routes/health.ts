import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => {
    // Liveness includes the database: a process that cannot read its store (here, the one
    // row every answer depends on, the current trust root) is not serving.
    await app.sluice.store.trustRoots.latest();
    return { status: 'ok' as const };
  });
};
export default healthRoutes;
