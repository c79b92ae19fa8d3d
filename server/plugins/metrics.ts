// GET /metrics (docs/metrics.md): the registry of this app (metrics/registry.ts), fed by
// hooks that see every request, by the domain's device reports, by the database's statement
// observer and by the artifact delivery (context.metrics). Registered after authentication
// and before the routes, so that its onRoute hook sees every route and /metrics is in the
// route table with its access policy.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, onResponseHookHandler, onSendHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { OpenStore } from '../storage/store.js';
import { lateCutoffs } from '../domain/faults.js';
import { clockSettingOf } from '../services/faults.js';
import { createServerMetrics, type ServerMetrics } from '../metrics/registry.js';

const errorReply = Type.Ref('ErrorReply');

export interface MetricsPluginOptions {
  /** The app's own store, whose statements are timed (context.store is the same one). */
  store: Pick<OpenStore, 'observeStatements' | 'dialect'>;
}

interface CountedRoute {
  count: (metrics: ServerMetrics, reply: FastifyReply, refusal: string | undefined) => void;
  /** Whether the count needs the error code of a refusal (read from the answer's body). */
  refusals?: boolean;
}

/** The routes whose answers are counted beside their timing, by `METHOD pattern`. */
const countedRoutes: Record<string, CountedRoute> = {
  'POST /api/v1/device/checkin': { count: (metrics, reply) => metrics.checkin('sluice', reply.statusCode < 400) },
  'GET /:tenant/controller/v1/:controllerId': { count: (metrics, reply) => metrics.checkin('ddi', reply.statusCode < 400) },
  'POST /api/v1/releases': {
    count: (metrics, reply, refusal) => metrics.upload(reply.statusCode < 400 ? undefined : (refusal ?? 'unknown')),
    refusals: true,
  },
};

export default fp<MetricsPluginOptions>(
  async function metricsPlugin(app: FastifyInstance, options) {
    const context = app.sluice;
    const { store } = context;
    const metrics = createServerMetrics({
      plans: () => store.plans.countByStatus(),
      unresolvedFaults: () => store.faults.unresolvedSummary(lateCutoffs(context.options.now(), clockSettingOf(context.options))),
      signerPending: () => context.checkinSigner?.pending() ?? 0,
    });
    context.metrics = metrics;
    options.store.observeStatements(metrics.statementObserver(options.store.dialect));
    context.events.on('device.state', ({ state }) => metrics.deviceEvent(state));

    // The error code of a refused answer, read from its body (the one error handler wrote it).
    const refusals = new WeakMap<FastifyRequest, string>();
    const readRefusal: onSendHookHandler = (request, reply, payload, done) => {
      if (reply.statusCode >= 400 && typeof payload === 'string') {
        try {
          refusals.set(request, String(JSON.parse(payload).error.code));
        } catch {
          /* not the error shape */
        }
      }
      done(null, payload);
    };
    const seen = new Set<string>();
    const append = <Hook>(hooks: Hook | Hook[] | undefined, hook: Hook): Hook[] => [
      ...(hooks === undefined ? [] : ([hooks].flat() as Hook[])),
      hook,
    ];
    // Each route gets its own timer, so an answer is timed without asking fastify which route
    // it was (request.routeOptions builds an object) and without building a label. A request no
    // route took (404) is not timed: it has no route to be labelled with.
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = [route.method].flat();
      const timers = new Map(methods.map((method) => [method, metrics.requestTimer(method, route.url)]));
      const counted = methods.map((method) => `${method} ${route.url}`).filter((key) => countedRoutes[key]);
      counted.forEach((key) => seen.add(key));
      const count = counted.length ? countedRoutes[counted[0]] : undefined;
      // A callback hook, not an async one: no promise per request on the check-in's path.
      const onResponse: onResponseHookHandler = (request, reply, done) => {
        timers.get(request.method)?.(reply.statusCode, reply.elapsedTime / 1000);
        count?.count(metrics, reply, refusals.get(request));
        done();
      };
      route.onResponse = append(route.onResponse, onResponse);
      if (count?.refusals) route.onSend = append(route.onSend, readRefusal);
    });
    // A route renamed without this table would stop being counted without a word.
    app.addHook('onReady', async () => {
      const missing = Object.keys(countedRoutes).filter((key) => !seen.has(key));
      if (missing.length) throw new Error(`metrics: no route ${missing.join(', ')} to count`);
    });
    app.addHook('onClose', async () => options.store.observeStatements(null));

    app.get(
      '/metrics',
      {
        // Prometheus sends a bearer token (scrape_config `authorization`); see docs/metrics.md.
        config: { access: ['admin', 'support'] },
        schema: {
          tags: ['ops'],
          summary: 'Prometheus metrics',
          description:
            'The text exposition format (version 0.0.4): HTTP, check-ins, device events, deliveries, uploads, the database, and the fleet read at scrape time. docs/metrics.md lists every metric.',
          // What a scrape can be refused with: no token, another role's, too many unknown ones.
          response: {
            200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } },
            401: errorReply,
            403: errorReply,
            429: errorReply,
          },
        },
      },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  },
  { name: 'sluice-metrics' },
);
