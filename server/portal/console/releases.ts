// Releases in the console: the list (newest first), a release's detail (manifest, signatures
// and key ids, hardware, faults fixed with their titles, devices running it) and yank with a
// reason. Release engineers and admins may yank; support reads.
import type { FastifyInstance } from 'fastify';
import { html } from '../html.js';
import { csrfField, doneFlash, formValues, requireStaff, sendPage } from '../kit.js';
import { principalOf } from '../sessions.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import { staffZone } from './zone.js';
import { actorOf } from '../../auth/principal.js';
import { SluiceError } from '../../errors.js';
import { yankRelease } from '../../services/yank-release.js';

const readers = ['support', 'admin', 'release'] as const;
const yankers = ['release', 'admin'] as const;
const flashes = { yanked: 'Release yanked: devices are refused its artifact and its live plans are paused.' };

export default async function releasePages(app: FastifyInstance) {
  const context = app.sluice;
  const { store } = context;

  app.get('/staff/releases', async (request, reply) => {
    if (!requireStaff(request, reply, readers)) return;
    const zone = staffZone(request);
    const releases = (await store.releases.list()).sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
    return sendPage(request, reply, {
      title: 'Releases',
      section: '/staff/releases',
      body: html`<h1>Releases</h1>
        <p class="muted">Times in ${zone}.</p>
        ${dataTable(
          ['Release', 'Hardware', 'Fixes', 'Published', 'State'],
          releases.map((release) => ({
            className: release.yankedAt ? 'breached' : '',
            cells: [
              html`<a href="/staff/releases/${release.id}">${release.product} ${release.version}</a>`,
              release.manifest.signed.hardware.join(', '),
              (release.manifest.signed.fixes ?? []).join(', ') || '—',
              html`${zonedTime(release.publishedAt, zone)}
                <div class="legend">by ${release.publishedBy}</div>`,
              release.yankedAt
                ? html`<strong class="breached">yanked</strong>
                    <div class="legend">${release.yankReason}</div>`
                : 'available',
            ],
          })),
          { empty: 'No releases published yet.' },
        )}`,
    });
  });

  app.get('/staff/releases/:id', async (request, reply) => {
    const user = requireStaff(request, reply, readers);
    if (!user) return;
    const zone = staffZone(request);
    const release = await store.releases.get((request.params as { id: string }).id);
    if (!release) throw new SluiceError('not_found', 'There is no such release.');
    const signed = release.manifest.signed;
    const fixes = [];
    for (const id of signed.fixes ?? []) fixes.push({ id, fault: await store.faults.get(id) });
    const running = (await store.devices.list({ product: release.product })).filter((device) => device.version === release.version).length;
    const downloads = await store.releases.downloadCount(release.id);
    const product = await store.products.get(release.product);
    const plans = await store.plans.list({ release: release.id });
    const mayYank = (yankers as readonly string[]).includes(user.role) && !release.yankedAt;
    return sendPage(request, reply, {
      title: `${release.product} ${release.version}`,
      section: '/staff/releases',
      flash: doneFlash(request, flashes),
      body: html`<h1>
          ${product?.name ?? release.product} ${release.version}${release.yankedAt ? html` <span class="badge failed">yanked</span>` : ''}
        </h1>
        ${release.yankedAt ? html`<div class="flash error" role="status">Yanked ${zonedTime(release.yankedAt, zone)}: ${release.yankReason || 'no reason given'}</div>` : ''}
        <section class="card">
          <dl class="facts">
            <dt>Product</dt>
            <dd>${release.product}</dd>
            <dt>Hardware</dt>
            <dd>${signed.hardware.join(', ')}</dd>
            <dt>Artifact</dt>
            <dd>${signed.artifact.name}, ${release.size} bytes</dd>
            <dt>SHA-256</dt>
            <dd><code>${release.sha256}</code></dd>
            ${
              signed.minVersion
                ? html`<dt>Minimum version</dt>
                    <dd>${signed.minVersion}</dd>`
                : ''
            }${
              (signed as { downgrade?: boolean }).downgrade
                ? html`<dt>Downgrade</dt>
                    <dd>replaces ${(signed as { replaces?: string }).replaces ?? ''}</dd>`
                : ''
            }
            <dt>Published</dt>
            <dd>${zonedTime(release.publishedAt, zone)} by ${release.publishedBy}</dd>
            <dt>Devices running it</dt>
            <dd>${running}</dd>
            <dt>Downloaded by</dt>
            <dd>${downloads} ${downloads === 1 ? 'device' : 'devices'}</dd>
            <dt>Plans</dt>
            <dd>
              ${plans.length ? plans.map((plan) => html`<a href="/staff/plans/${plan.id}">${plan.customer} (${plan.status})</a> `) : 'none'}
            </dd>
          </dl>
        </section>
        <h2>Notes</h2>
        <p>${signed.notes || 'No release notes.'}</p>
        <h2>Faults fixed</h2>
        ${
          fixes.length
            ? html`<ul>
                ${fixes.map(({ id, fault }) => html`<li>${fault ? html`<a href="/staff/faults/${id}">${id}</a>: ${fault.title} (${fault.customer})` : id}</li>`)}
              </ul>`
            : html`<p class="muted">None.</p>`
        }
        <h2>Signatures</h2>
        ${dataTable(
          ['Key id', 'Signature'],
          release.manifest.signatures.map((signature) => [
            html`<code>${signature.keyid}</code>`,
            html`<code>${signature.sig.slice(0, 24)}…</code>`,
          ]),
        )}
        <h2>Signed manifest</h2>
        <pre>${JSON.stringify(signed, null, 2)}</pre>
        ${
          mayYank
            ? html`<section class="card" aria-labelledby="yank-title">
                <h2 id="yank-title">Yank this release</h2>
                <p>Devices are refused its artifact from now on and every live plan on it pauses.</p>
                <form method="post" action="/staff/releases/${release.id}/yank">
                  ${csrfField(request)}<label for="yank-reason">Reason (shown to support and in the audit log)</label>
                  <textarea id="yank-reason" name="reason" rows="2" required maxlength="2000"></textarea
                  ><button type="submit">Yank ${release.version}</button>
                </form>
              </section>`
            : ''
        }`,
    });
  });

  app.post('/staff/releases/:id/yank', async (request, reply) => {
    const user = requireStaff(request, reply, yankers);
    if (!user) return;
    const id = (request.params as { id: string }).id;
    const reason = (formValues(request.body, 2000).reason ?? '').trim();
    if (!reason) throw new SluiceError('validation_failed', 'Say why the release is yanked.');
    await yankRelease(context, id, reason, actorOf(principalOf(user)));
    return reply.redirect(`/staff/releases/${id}?done=yanked`, 303);
  });
}
