// Events of other features that people must hear of, written in the emitter's transaction.
import type { SluiceContext } from '../context.js';
import { notify } from './outbox.js';

export function registerNotificationListeners(context: SluiceContext): void {
  context.events.on('release.yanked', async ({ release: id, actor, at }, tx) => {
    const release = await tx.releases.get(id);
    if (!release) return;
    await notify(tx, {
      event: 'release.yanked',
      subject: `release:${id}`,
      key: `release.yanked:${id}`,
      customer: null,
      at,
      data: { release: id, product: release.product, version: release.version, reason: release.yankReason, actor },
    });
  });
}
