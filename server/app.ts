// buildApp: the product as a list of plugins (STYLE.md, fastify). `sluice server` and the
// tests build the same app; the tests inject requests or listen on an ephemeral port.
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mkdirSync } from 'node:fs';
import { resolveOptions, type ServerOptions } from './config.js';
import { openStore } from './storage/open.js';
import { openArtifactStores } from './storage/artifact-stores.js';
import { checkDeliveryFits } from './http/artifact-delivery.js';
import { createTrustRoots } from './services/trust-roots.js';
import { loadPrivateKeyFile } from '../signing/keys.js';
import { DomainEventBus } from './events.js';
import { bootstrap, type BootstrapReport } from './bootstrap.js';
import { ErrorReply } from './http/schemas.js';
import { lazySchemaController } from './http/lazy-schema-compilers.js';
import errorsPlugin, { clientErrorHandler, frameworkErrors } from './plugins/errors.js';
import { capConnections, fastifyNetworkOptions } from './http/network-limits.js';
import securityHeadersPlugin from './plugins/security-headers.js';
import unreadBodiesPlugin from './plugins/unread-bodies.js';
import authenticationPlugin from './plugins/authentication.js';
import metricsPlugin from './plugins/metrics.js';
import healthRoutes from './routes/health.js';
import trustRoutes from './routes/trust.js';
import usersRoutes from './routes/users.js';
import productsRoutes from './routes/products.js';
import customersRoutes from './routes/customers.js';
import devicesRoutes from './routes/devices.js';
import releasesRoutes from './routes/releases.js';
import releaseIndexRoutes from './routes/release-index.js';
import auditRoutes from './routes/audit.js';
import plansRoutes from './routes/plans.js';
import { registerPlanListeners } from './services/plans.js';
import deviceRoutes from './routes/device.js';
import faultsRoutes from './routes/faults.js';
import supportSessionsRoutes from './routes/support-sessions.js';
import commissioningRoutes from './routes/commissioning.js';
import { registerFaultListeners } from './services/faults.js';
import webhooksRoutes from './routes/webhooks.js';
import notificationsRoutes from './routes/notifications.js';
import { registerNotificationListeners } from './notifications/listeners.js';
import { NotificationWorker } from './notifications/worker.js';
import portalPlugin from './portal/plugin.js';
import { hideFromDocs } from './http/openapi.js';
import ddiRoutes from './routes/ddi.js';
import ddiGatewayTokenRoutes from './routes/ddi-gateway-tokens.js';
import type { SluiceContext } from './context.js';
import { createCheckinSigner } from './services/checkin-signer.js';
import './context.js';

export async function buildApp(partial: Partial<ServerOptions> = {}): Promise<FastifyInstance> {
  const options = resolveOptions(partial);
  // Owner-only, as backups are: the database, keys and admin token live here.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({ url: options.databaseUrl, dataDir: options.dataDir });
  const trust = createTrustRoots(store);
  // A refused start (bad trust root, unreadable key) must not leave the pool open behind it.
  const report = await bootstrap(store, trust, options).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const artifactStores = await openArtifactStores({ url: options.artifactStoreUrl, dataDir: options.dataDir })
    .then((stores) => {
      checkDeliveryFits(options.artifactDelivery, stores.artifacts);
      return stores;
    })
    .catch(async (error: unknown) => {
      await store.close();
      throw error;
    });
  const context: SluiceContext = {
    store,
    options,
    trust,
    ...artifactStores,
    checkinSigner: options.serverKeyPath ? createCheckinSigner(loadPrivateKeyFile(options.serverKeyPath), options.signingThreads) : null,
    events: new DomainEventBus(),
  };
  // Crash recovery: publishing moves the bytes into the store before the release row commits,
  // so a crash in between leaves bytes no release refers to; they go before any request runs.
  const digests = await store.releases.digests();
  await context.artifacts.removeUnreferenced((sha256) => digests.has(sha256));

  const app = Fastify({
    logger: options.logger ? { redact: ['req.headers.authorization', 'req.headers.cookie'] } : false,
    // Requests beyond this are refused with 413 before they reach a handler.
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 300 },
    // request.ip and request.protocol from X-Forwarded-* only when the peer is a named proxy.
    trustProxy: options.trustProxy?.length ? [...options.trustProxy] : false,
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // Each route's schemas are compiled at its first request, not at start (http/lazy-schema-compilers.ts).
    schemaController: lazySchemaController,
    // Header, stall and keep-alive timeouts: a trickling client is cut off (http/network-limits.ts).
    ...fastifyNetworkOptions(options),
  }).withTypeProvider<TypeBoxTypeProvider>();
  capConnections(app.server, options);
  registerPlanListeners(context);
  registerFaultListeners(context, { autoFaultClass: options.autoFaultClass });
  registerNotificationListeners(context);
  // The outbox's delivery worker (docs/notifications.md); it stops before the store closes.
  const notificationWorker = new NotificationWorker(context);
  app.decorate('notifications', notificationWorker);
  app.addHook('preClose', async () => {
    await notificationWorker.stop();
  });
  app.decorate('sluice', context);
  app.decorate('bootstrapReport', report);
  app.addHook('onClose', async () => {
    await context.checkinSigner?.close();
    await context.artifacts.close();
    await store.close();
  });
  app.addSchema(ErrorReply);

  await app.register(errorsPlugin);
  await app.register(unreadBodiesPlugin);
  await app.register(securityHeadersPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'sluice', version: '1', description: 'Signed firmware updates in customer-confirmed maintenance windows' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(multipart);
  await app.register(authenticationPlugin);
  await app.register(metricsPlugin, { store });
  // Lifecycle calls like POST /plans/:id/pause carry an optional body; an empty request
  // means "no options", not a malformed body.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method === 'POST' && request.routeOptions.schema?.body) request.body = {};
  });

  for (const routes of [
    healthRoutes,
    trustRoutes,
    usersRoutes,
    productsRoutes,
    customersRoutes,
    devicesRoutes,
    releasesRoutes,
    releaseIndexRoutes,
    plansRoutes,
    commissioningRoutes,
    deviceRoutes,
    faultsRoutes,
    supportSessionsRoutes,
    ddiGatewayTokenRoutes,
    ddiRoutes,
    auditRoutes,
  ]) {
    await app.register(routes);
  }
  await app.register(webhooksRoutes);
  await app.register(notificationsRoutes);
  // The web portal lives in its own encapsulated context: cookies, form bodies, CSRF and
  // HTML error pages do not leak into the JSON API.
  await app.register(async (pages) => {
    pages.addHook('onRoute', hideFromDocs);
    await pages.register(portalPlugin);
  });
  await app.ready();
  if (options.notificationWorker.enabled) notificationWorker.start();
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    bootstrapReport: BootstrapReport;
  }
}
