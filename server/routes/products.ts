import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorReplies, Identifier } from '../http/schemas.js';
import type { Product as ProductRecord } from '../storage/repositories/records.js';
import { actorOf } from '../auth/principal.js';

const Product = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
const toProduct = (product: ProductRecord) => ({ id: product.id, name: product.name, createdAt: product.createdAt.toISOString() });

const productsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post('/api/v1/products', {
    config: { access: ['admin'] },
    schema: {
      tags: ['fleet'],
      body: Type.Object({ id: Identifier, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Product, ...errorReplies },
    },
  }, async (request, reply) => {
    const now = options.now();
    const created = await store.transaction(async (tx) => {
      const product = await tx.products.create(request.body, now);
      await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'product.create', subject: `product:${product.id}` });
      return product;
    });
    return reply.status(201).send(toProduct(created));
  });
  app.get('/api/v1/products', {
    config: { access: ['staff', 'customer'] },
    schema: { tags: ['fleet'], response: { 200: Type.Array(Product), ...errorReplies } },
  }, async () => (await store.products.list()).map(toProduct));
};
export default productsRoutes;
