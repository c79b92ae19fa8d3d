// Yanking a release (DESIGN.md, "Trust model": a yanked release is stopped): marked once by a
// conditional update, audited, and announced in the same transaction so that its live plans
// pause with it. POST /api/v1/releases/:id/yank and the console's yank button both call it.
import type { SluiceContext } from '../context.js';
import type { Release } from '../storage/repositories/records.js';
import { SluiceError } from '../errors.js';

export async function yankRelease(context: SluiceContext, id: string, reason: string, actor: string): Promise<Release> {
  const now = context.options.now();
  return context.store.transaction(async (tx) => {
    const release = await tx.releases.get(id);
    if (!release) throw new SluiceError('not_found', `no release "${id}"`);
    // Decided once: of two yanks at the same moment, one marks it and the other is refused.
    if (!(await tx.releases.markYanked(id, reason, now))) {
      throw new SluiceError('conflict', `release ${id} was already yanked at ${release.yankedAt?.toISOString() ?? 'an earlier moment'}`);
    }
    await tx.audit.record({ at: now, actor, action: 'release.yank', subject: `release:${id}`, details: { reason } });
    await context.events.emit('release.yanked', { release: id, actor, at: now }, tx);
    return (await tx.releases.get(id))!;
  });
}
