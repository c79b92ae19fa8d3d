// The written plan's versions, each with who froze it, when, and which sections changed
// from the version before (compared section by section on the Markdown).
import { html, type Html } from '../html.js';
import { dataTable } from '../table.js';
import { zonedTime } from '../time.js';
import type { Store } from '../../storage/store.js';

/** Markdown split at its "## " headings; the header table (with the version line) is left out. */
function sections(markdown: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const chunk of markdown.split(/\n(?=## )/).slice(1)) {
    const [title, ...rest] = chunk.split('\n');
    parts.set(title.replace(/^## /, '').replace(/\\/g, ''), rest.join('\n').trim());
  }
  return parts;
}

export function changedSections(before: string, after: string): string[] {
  const old = sections(before);
  const now = sections(after);
  const changed: string[] = [];
  for (const [title, text] of now) if (old.get(title) !== text) changed.push(old.has(title) ? title : `${title} (new)`);
  for (const title of old.keys()) if (!now.has(title)) changed.push(`${title} (removed)`);
  return changed;
}

export async function versionHistory(
  store: Store,
  plan: { id: string; documentVersion: number },
  zone: string,
  link: (version: number) => string,
): Promise<Html> {
  const rows = [];
  let previous: string | null = null;
  for (let version = 1; version <= plan.documentVersion; version++) {
    const document = await store.plans.document(plan.id, version);
    if (!document) continue;
    const changes = previous === null ? ['first version'] : changedSections(previous, document.markdown);
    rows.push([
      html`<a href="${link(version)}">Version ${version}</a>`,
      zonedTime(document.createdAt, zone),
      document.createdBy,
      changes.join(', ') || 'no change',
    ]);
    previous = document.markdown;
  }
  return dataTable(['Version', 'Frozen', 'By', 'What changed'], rows.reverse(), { empty: 'Not proposed yet: no written version.' });
}
