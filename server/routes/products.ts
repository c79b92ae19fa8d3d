import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CreateProduct, errors, Product, type ProductType } from '../../protocol/index.js';
import type { Product as ProductRecord } from '../storage/repositories/records.js';
import { actorOf } from '../auth/principal.js';

const toProduct = (product: ProductRecord): ProductType => ({
  id: product.id,
  name: product.name,
  createdAt: product.createdAt.toISOString(),
});

const productsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;
  app.post(
    '/api/v1/products',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['fleet'],
        summary: 'Create a product',
        body: CreateProduct,
        response: { 201: Product, ...errors(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const now = options.now();
      const created = await store.transaction(async (tx) => {
        const product = await tx.products.create(request.body, now);
        await tx.audit.record({ at: now, actor: actorOf(request.principal), action: 'product.create', subject: `product:${product.id}` });
        return product;
      });
      return reply.status(201).send(toProduct(created));
    },
  );
  app.get(
    '/api/v1/products',
    {
      config: { access: ['staff', 'customer'] },
      schema: { tags: ['fleet'], summary: 'List products', response: { 200: Type.Array(Product), ...errors(401, 403, 429) } },
    },
    async () => (await store.products.list()).map(toProduct),
  );
};
export default productsRoutes;
