// Webhooks (DESIGN.md, "Notifications and service hours"): staff subscribe an http(s) URL to
// events; each delivery is a signed JSON POST (notifications/webhook.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { errors, IdParams, NoContent } from '../../protocol/index.js';
import { CreateWebhook, Webhook } from '../../protocol/webhooks.js';
import { actorOf } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { webhookUrlProblem } from '../notifications/webhook.js';
import type { Webhook as WebhookRecord } from '../storage/repositories/notifications.js';

const webhookView = (webhook: WebhookRecord) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  createdBy: webhook.createdBy,
  createdAt: webhook.createdAt.toISOString(),
});

const webhooksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options } = app.sluice;

  app.post(
    '/api/v1/webhooks',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['notifications'],
        summary: 'Subscribe a URL to events',
        description:
          'Each event is POSTed as JSON with X-Sluice-Event, X-Sluice-Delivery (stable across retries) and X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>.',
        body: CreateWebhook,
        response: { 201: Webhook, ...errors(400, 401, 403, 413, 415, 422, 429) },
      },
    },
    async (request, reply) => {
      const problem = webhookUrlProblem(request.body.url);
      if (problem) throw new SluiceError('invalid_webhook_url', `the webhook url ${problem}`);
      const now = options.now();
      const webhook: WebhookRecord = {
        id: randomUUID(),
        url: request.body.url,
        events: [...request.body.events],
        secret: request.body.secret,
        createdBy: actorOf(request.principal),
        createdAt: now,
      };
      await store.transaction(async (tx) => {
        await tx.notifications.createWebhook(webhook);
        await tx.audit.record({
          at: now,
          actor: webhook.createdBy,
          action: 'webhook.create',
          subject: `webhook:${webhook.id}`,
          details: { url: webhook.url, events: webhook.events },
        });
      });
      return reply.status(201).send(webhookView(webhook));
    },
  );

  app.get(
    '/api/v1/webhooks',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['notifications'],
        summary: 'List webhooks (without their secrets)',
        response: { 200: Type.Array(Webhook), ...errors(401, 403, 429) },
      },
    },
    async () => (await store.notifications.webhooks()).map(webhookView),
  );

  app.delete(
    '/api/v1/webhooks/:id',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['notifications'],
        summary: 'Stop a webhook',
        params: IdParams,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const now = options.now();
      await store.transaction(async (tx) => {
        if (!(await tx.notifications.deleteWebhook(request.params.id, now)))
          throw new SluiceError('not_found', `no webhook "${request.params.id}"`);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'webhook.delete',
          subject: `webhook:${request.params.id}`,
        });
      });
      return reply.status(204).send(null);
    },
  );
};
export default webhooksRoutes;
