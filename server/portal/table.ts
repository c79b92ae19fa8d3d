// One table shape for every page: each cell carries its column's name, so that on a phone the
// rows stack into labelled cards instead of overflowing (layout.ts, table.stack).
import { html, type Html, type Value } from './html.js';

export interface Row {
  cells: Value[];
  className?: string;
}

export function dataTable(head: string[], rows: (Value[] | Row)[], options: { empty?: string; caption?: string; id?: string } = {}): Html {
  const body = rows.map((row) => {
    const { cells, className } = Array.isArray(row) ? { cells: row, className: undefined } : row;
    return html`<tr class="${className ?? ''}">
      ${cells.map((cell, index) => html`<td data-label="${head[index] ?? ''}"><div class="cell">${cell}</div></td>`)}
    </tr>`;
  });
  return html`<table class="stack" ${options.id ? html` id="${options.id}"` : ''}>
    ${
      options.caption
        ? html`<caption>
            ${options.caption}
          </caption>`
        : ''
    }
    <thead>
      <tr>
        ${head.map((name) => html`<th scope="col">${name}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${
        rows.length
          ? body
          : html`<tr>
              <td colspan="${head.length}" class="muted">${options.empty ?? 'Nothing here yet.'}</td>
            </tr>`
      }
    </tbody>
  </table>`;
}
