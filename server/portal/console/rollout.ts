// A plan's rollout as support watches it: devices per agent state, per wave, and each failed
// device with the detail its agent reported. Refreshed in place by the polling script.
import { html, type Html } from '../html.js';
import { progressBar, statusBadge } from '../layout.js';
import { dataTable } from '../table.js';
import { localTime } from '../time.js';
import { waveBars } from '../plan-parts.js';
import type { Store } from '../../storage/store.js';
import type { PlanView } from '../../services/plan-view.js';
import { progressTotals } from '../../services/plan-view.js';
import { failedStates } from '../../../client/states.js';

interface DeliveryFigures {
  devices: number;
  deltaDevices: number;
  bytesDownloaded: number;
  bytesFull: number;
  bytesSaved: number;
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/**
 * What delta updates saved (issue 19 adds `delivery` to the plan's view); nothing when the
 * view has no such figures or no device downloaded yet.
 */
export function deliveryNote(view: PlanView): Html {
  const delivery = (view as PlanView & { delivery?: DeliveryFigures }).delivery;
  if (!delivery || !delivery.devices) return html``;
  const share = delivery.bytesFull ? Math.round((delivery.bytesSaved / delivery.bytesFull) * 100) : 0;
  return html`<p class="legend">
    Downloads: ${delivery.devices} devices (${delivery.deltaDevices} by delta), ${megabytes(delivery.bytesDownloaded)} of
    ${megabytes(delivery.bytesFull)}; ${megabytes(delivery.bytesSaved)} saved (${share} %).
  </p>`;
}

export async function rolloutView(store: Store, view: PlanView, zone: string): Promise<Html> {
  if (view.kind === 'commissioning') return html``;
  const states = Object.entries(view.progress.byState).filter(([, count]) => count > 0);
  const members = await store.plans.devices(view.id);
  const failed = members.filter((member) => member.state && failedStates.has(member.state));
  const failures = [];
  for (const member of failed.slice(0, 50)) {
    const event = (await store.devices.history(member.device, 50)).find(
      (candidate) => candidate.plan === view.id && failedStates.has(candidate.state),
    );
    failures.push([
      html`<a href="/staff/devices/${member.device}">${member.device}</a>`,
      member.wave === null ? '—' : String(member.wave + 1),
      statusBadge(member.state!),
      localTime(member.stateAt, zone),
      event?.detail ?? html`<span class="muted">no detail reported</span>`,
    ]);
  }
  return html`<h2>Rollout</h2>
    ${progressBar(progressTotals(view.progress))}${deliveryNote(view)}
    <h3>Devices per state</h3>
    ${dataTable(
      ['State', 'Devices'],
      states.map(([state, count]) => [statusBadge(state), String(count)]),
      { empty: 'No devices.' },
    )}
    <h3>Waves</h3>
    ${waveBars(view)}
    <h3>Failures</h3>
    ${dataTable(['Device', 'Wave', 'State', `When (${zone})`, 'Detail'], failures, { empty: 'No failures.' })}
    <h3>Devices</h3>
    ${dataTable(
      ['Device', 'Wave', 'State', `Since (${zone})`],
      members
        .slice(0, 200)
        .map((member) => [
          html`<a href="/staff/devices/${member.device}">${member.device}</a>`,
          member.wave === null ? '—' : String(member.wave + 1),
          member.state ? statusBadge(member.state) : html`<span class="muted">pending</span>`,
          localTime(member.stateAt, zone) || '—',
        ]),
      { empty: 'No devices in this plan.' },
    )}`;
}
