import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier } from '../http/schemas.js';
import { createProduct, listProducts } from '../storage/identity.js';
import { recordAudit } from '../audit.js';
import { actorOf } from '../auth/principal.js';

const Product = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
const toProduct = (row: { id: string; name: string; created_at: string }) => ({ id: row.id, name: row.name, createdAt: row.created_at });

const productsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db, options } = app.sluice;
  app.post('/api/v1/products', {
    config: { access: ['admin'] },
    schema: {
      tags: ['fleet'],
      body: Type.Object({ id: Identifier, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Product, ...errorReplies },
    },
  }, async (request, reply) => {
    const now = options.now();
    const row = db.transaction(() => {
      const created = createProduct(db, request.body, now);
      recordAudit(db, { at: now, actor: actorOf(request.principal), action: 'product.create', subject: `product:${created.id}` });
      return created;
    })();
    return reply.status(201).send(toProduct(row));
  });
  app.get('/api/v1/products', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['fleet'], response: { 200: Type.Array(Product), ...errorReplies } },
  }, async () => listProducts(db).map(toProduct));
};
export default productsRoutes;
