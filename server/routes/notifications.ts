// The notifications sent, with every delivery attempt (staff), a customer's own (without the
// staff's deliveries), and the e-mail contacts: who gets mail, in which zone, who is on call.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IANAZone } from 'luxon';
import { errors, NoContent } from '../../protocol/index.js';
import { Contact, ContactParams, NotificationQuery, NotificationReply, SaveContact } from '../../protocol/notifications.js';
import { actorOf, customerScope } from '../auth/principal.js';
import { SluiceError } from '../errors.js';
import { eventBody, maintainerTarget } from '../notifications/outbox.js';
import { canonicalLocale } from '../notifications/address.js';
import { defaultMailLocale } from '../notifications/mail.js';
import type { Contact as ContactRecord } from '../storage/repositories/notifications.js';

const iso = (value: Date | null) => value?.toISOString() ?? null;
const contactView = (contact: ContactRecord) => ({ ...contact, updatedAt: contact.updatedAt.toISOString() });

const notificationsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.sluice;
  const { store, options } = context;

  app.get(
    '/api/v1/notifications',
    {
      config: { access: ['staff', 'customer'] },
      schema: {
        tags: ['notifications'],
        summary: 'Events sent, with their deliveries and attempts',
        description:
          'Newest first. `subject` names what they are about (fault:F-1001, plan:<id>). A customer sees the events of its own customer and only the deliveries to its own users.',
        querystring: NotificationQuery,
        response: { 200: Type.Array(NotificationReply), ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const scope = customerScope(request.principal);
      const notifications = await store.notifications.list({
        subjects: request.query.subject ? [request.query.subject] : undefined,
        event: request.query.event,
        customer: scope,
        limit: request.query.limit,
      });
      // A customer's notifications are those of its customer; staff-wide events (release.yanked) are not.
      const visible = scope ? notifications.filter((notification) => notification.customer === scope) : notifications;
      let deliveries = await store.notifications.deliveriesOf(visible.map((notification) => notification.id));
      if (scope) {
        const ownUsers = new Set(
          (await store.notifications.contacts()).filter((contact) => contact.customer === scope).map((contact) => contact.username),
        );
        // The maintenance staff the customer itself named are its own too.
        deliveries = deliveries.filter(
          (delivery) => delivery.channel === 'email' && (ownUsers.has(delivery.target) || delivery.target === maintainerTarget),
        );
      }
      const attempts = await store.notifications.attemptsOf(deliveries.map((delivery) => delivery.id));
      return visible.map((notification) => {
        const body = eventBody(context, notification);
        return {
          id: notification.id,
          event: notification.event,
          subject: notification.subject,
          customer: notification.customer,
          createdAt: notification.createdAt.toISOString(),
          link: (body.link as string | null) ?? null,
          data: (notification.payload.data ?? {}) as Record<string, unknown>,
          deliveries: deliveries
            .filter((delivery) => delivery.notification === notification.id)
            .map((delivery) => ({
              id: delivery.id,
              channel: delivery.channel,
              target: delivery.target,
              address: delivery.address,
              timezone: delivery.timezone,
              locale: delivery.locale ?? defaultMailLocale,
              status: delivery.status,
              attempts: delivery.attempts,
              nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
              deliveredAt: iso(delivery.deliveredAt),
              attemptLog: attempts
                .filter((attempt) => attempt.delivery === delivery.id)
                .map((attempt) => ({ at: attempt.at.toISOString(), ok: attempt.ok, statusCode: attempt.statusCode, error: attempt.error })),
            })),
        };
      });
    },
  );

  app.get(
    '/api/v1/notifications/contacts',
    {
      config: { access: ['admin', 'support'] },
      schema: {
        tags: ['notifications'],
        summary: 'Who receives notification e-mail',
        response: { 200: Type.Array(Contact), ...errors(401, 403, 429) },
      },
    },
    async () => (await store.notifications.contacts()).map(contactView),
  );

  app.put(
    '/api/v1/notifications/contacts/:username',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['notifications'],
        summary: "Set a user's e-mail address, zone and on-call or escalation role",
        params: ContactParams,
        body: SaveContact,
        response: { 200: Contact, ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
      },
    },
    async (request) => {
      const { username } = request.params;
      const user = await store.users.getByName(username);
      if (!user) throw new SluiceError('not_found', `no user "${username}"`);
      const timezone = request.body.timezone ?? null;
      if (timezone !== null && !IANAZone.isValidZone(timezone))
        throw new SluiceError('invalid_timezone', `"${timezone}" is not an IANA time zone`);
      const given = request.body.locale ?? null;
      const locale = given === null ? null : canonicalLocale(given);
      if (given !== null && locale === null)
        throw new SluiceError('invalid_locale', `"${given}" is not a BCP 47 language tag dates can be written in (es-ES, de, en-GB)`);
      const onCall = request.body.onCall ?? false;
      const escalation = request.body.escalation ?? false;
      if (user.role === 'customer' && (onCall || escalation))
        throw new SluiceError('validation_failed', 'only staff are on call or escalation contacts');
      const now = options.now();
      await store.transaction(async (tx) => {
        await tx.notifications.saveContact({ username, email: request.body.email, timezone, locale, onCall, escalation, updatedAt: now });
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'notification.contact',
          subject: `user:${username}`,
          details: { email: request.body.email, timezone, locale, onCall, escalation },
        });
      });
      return contactView((await store.notifications.contacts()).find((contact) => contact.username === username)!);
    },
  );

  app.delete(
    '/api/v1/notifications/contacts/:username',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['notifications'],
        summary: 'Stop e-mail to a user',
        params: ContactParams,
        response: { 204: NoContent, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const now = options.now();
      await store.transaction(async (tx) => {
        if (!(await tx.notifications.deleteContact(request.params.username)))
          throw new SluiceError('not_found', `no contact "${request.params.username}"`);
        await tx.audit.record({
          at: now,
          actor: actorOf(request.principal),
          action: 'notification.contact.delete',
          subject: `user:${request.params.username}`,
        });
      });
      return reply.status(204).send(null);
    },
  );
};
export default notificationsRoutes;
