import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => {
    // Liveness includes the database: a process that cannot read its store is not serving.
    app.sluice.db.prepare('SELECT 1').get();
    return { status: 'ok' as const };
  });
};
export default healthRoutes;
