// The portal's page frame and shared pieces: header with navigation, flash messages, a
// progress bar. Plain HTML and one stylesheet; forms work without JavaScript.
import { html, Html } from './html.js';
import type { PortalUser } from './sessions.js';

const styles = `
:root{--ink:#17202a;--muted:#5b6776;--line:#d8dee6;--bg:#f5f7fa;--brand:#0f5c8c;--ok:#1e7d4f;--bad:#b42318;--warn:#b54708}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line)}header .bar{max-width:72rem;margin:0 auto;padding:.75rem 1.25rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}nav a[aria-current]{color:var(--brand);font-weight:600}
.logo{font-weight:700;color:var(--brand);text-decoration:none;font-size:1.15rem;letter-spacing:.02em}nav a{color:var(--ink);text-decoration:none}nav a:hover{color:var(--brand)}
.who{margin-left:auto;color:var(--muted);display:flex;gap:.75rem;align-items:center}.who form button{display:inline}td form{display:inline-block;margin-right:.4rem}main{max-width:72rem;margin:1.5rem auto;padding:0 1.25rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;background:#e8eef5;color:var(--ink)}.badge.proposed{background:#fff4e5;color:var(--warn)}.badge.confirmed,.badge.completed,.badge.committed{background:#e7f6ee;color:var(--ok)}
.badge.paused,.badge.cancelled,.badge.failed,.badge.rolled_back{background:#fdecea;color:var(--bad)}.overdue,.breached{color:var(--bad);font-weight:600}tr.breached td{background:#fff5f4}
.flash{padding:.75rem 1rem;border-radius:6px;margin-bottom:1rem}.flash.error{background:#fdecea;color:var(--bad);border:1px solid #f5c2bd}.flash.ok{background:#e7f6ee;color:var(--ok);border:1px solid #b7e1c8}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid var(--line);border-radius:6px;width:100%;max-width:28rem;background:#fff}
form button{display:block}button{font:inherit;background:var(--brand);color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer;margin-top:.8rem}button.secondary{background:#fff;color:var(--brand);border:1px solid var(--brand)}button.link{background:none;color:var(--brand);padding:0;margin:0}
.choice{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}.choice input{width:auto;margin-top:.3rem}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}.grid.wide{grid-template-columns:repeat(auto-fit,minmax(min(22rem,100%),1fr))}
.stat{font-size:1.8rem;font-weight:700}.muted{color:var(--muted)}.bar-track{background:#e8eef5;border-radius:4px;height:14px;display:flex;overflow:hidden;min-width:10rem}
.bar-track span{display:block;height:100%}.seg-committed{background:var(--ok)}.seg-failed{background:var(--bad)}.seg-active{background:#5aa2d6}.legend{font-size:.8rem;color:var(--muted)}
iframe.document{width:100%;height:32rem;border:1px solid var(--line);border-radius:8px;background:#fff}.login{max-width:24rem;margin:4rem auto}
a{color:var(--brand)}.muted,.legend{color:#4f5b69}main{overflow-wrap:anywhere}caption{text-align:left;font-weight:600;padding:.3rem 0}
.written{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.5rem 1.25rem 1rem;margin-bottom:1rem}.written h1{font-size:1.3rem;border-bottom:2px solid var(--ink);padding-bottom:.3rem}.written table{border:1px solid var(--line)}.written td,.written th{border:1px solid var(--line);overflow-wrap:break-word}.written td:first-child{min-width:6.5rem}.card>h2:first-child,.card>h3:first-child{margin-top:.2rem}a.card{display:block;color:inherit;text-decoration:none}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}.actions form{margin:0}.actions button{margin-top:0}fieldset{border:1px solid var(--line);border-radius:6px;margin:.8rem 0;padding:.5rem .8rem}legend{font-weight:600}
.field-error{color:var(--bad);font-weight:600;margin:.2rem 0}input[aria-invalid=true]{border-color:var(--bad)}.inline{display:flex;flex-wrap:wrap;gap:.5rem 1rem}.inline>div{flex:1 1 12rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin-bottom:1rem}.filters label{margin:0}.filters>div{flex:0 1 16rem}.filters button{margin-top:0}
.chart{max-width:100%;height:auto}.chart .met{fill:var(--ok)}.chart .breached{fill:var(--bad)}.chart text{font-size:11px;fill:var(--ink)}.pill-ok{color:var(--ok);font-weight:600}
pre{white-space:pre-wrap;background:#f1f3f6;padding:.5rem;border-radius:6px;font-size:.85rem}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
@media (max-width:640px){main{padding:0 .75rem}header .bar{padding:.6rem .75rem}.card{padding:.75rem}
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack tr{border:1px solid var(--line);border-radius:8px;margin-bottom:.6rem;background:#fff}table.stack td{border:0;border-bottom:1px solid #edf0f4;display:grid;grid-template-columns:7.5rem minmax(0,1fr);gap:.5rem}
table.stack td::before{content:attr(data-label);font-weight:600;color:#4f5b69;font-size:.8rem}table.stack td .cell{min-width:0}table.stack td[colspan]{display:block}table.stack td[colspan]::before{content:none}.bar-track{min-width:0}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}}
`;

const customerNav: [string, string][] = [
  ['/portal', 'Plans'],
  ['/portal/devices', 'Devices'],
  ['/portal/faults', 'Faults'],
  ['/portal/support', 'Remote support'],
];
const staffNav: [string, string][] = [
  ['/staff', 'Overview'],
  ['/staff/releases', 'Releases'],
  ['/staff/plans', 'Plans'],
  ['/staff/devices', 'Devices'],
  ['/staff/faults', 'Faults'],
  ['/staff/sla', 'SLA'],
  ['/staff/support', 'Remote support'],
  ['/staff/commissioning', 'Commissioning'],
  ['/staff/audit', 'Audit'],
];
/** Release engineers work on releases only (issue 18); support and admin see everything. */
const releaseNav: [string, string][] = [['/staff/releases', 'Releases']];

function navigation(user: PortalUser, current: string | undefined): Html {
  const links = user.role === 'customer' ? customerNav : user.role === 'release' ? releaseNav : staffNav;
  return html`<nav aria-label="Main">
    ${links.map(([href, label]) => html`<a href="${href}" ${href === current ? html` aria-current="page"` : ''}>${label}</a>`)}
  </nav>`;
}

export interface PageOptions {
  title: string;
  user?: PortalUser | null;
  csrf?: string;
  flash?: { kind: 'error' | 'ok'; text: string } | null;
  body: Html;
  /** The navigation entry this page belongs to. */
  section?: string;
  /** Loads the polling script; regions marked data-live refresh themselves. */
  live?: boolean;
}

export function page(options: PageOptions): string {
  const { user } = options;
  const nav = user ? navigation(user, options.section) : null;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${options.title} · sluice</title>
        <style>
          ${new Html(styles)}
        </style>
        ${options.live ? html`<script src="/assets/live.js" defer></script>` : ''}
      </head>
      <body>
        <header>
          <div class="bar">
            <a class="logo" href="/">sluice</a>${nav}${
              user
                ? html`<div class="who">
                    <span>${user.username}${user.customerName ? html` · ${user.customerName}` : ''}</span>
                    <form method="post" action="/logout">
                      <input type="hidden" name="_csrf" value="${options.csrf ?? ''}" /><button class="link" type="submit">Sign out</button>
                    </form>
                  </div>`
                : ''
            }
          </div>
        </header>
        <main>
          ${options.flash ? html`<div class="flash ${options.flash.kind}" role="${options.flash.kind === 'error' ? 'alert' : 'status'}">${options.flash.text}</div>` : ''}${options.body}
        </main>
      </body>
    </html>`.text;
}

/** A plan's progress as a stacked bar (committed, failed, in flight), not only numbers. */
export function progressBar(counts: { total: number; succeeded: number; failed: number; inProgress: number }): Html {
  const share = (value: number) => (counts.total === 0 ? 0 : (value / counts.total) * 100).toFixed(1);
  return html`<div
      class="bar-track"
      role="img"
      aria-label="${counts.succeeded} of ${counts.total} succeeded, ${counts.failed} failed, ${counts.inProgress} in progress"
    >
      <span class="seg-committed" style="width:${share(counts.succeeded)}%"></span
      ><span class="seg-failed" style="width:${share(counts.failed)}%"></span
      ><span class="seg-active" style="width:${share(counts.inProgress)}%"></span>
    </div>
    <div class="legend">${counts.succeeded}/${counts.total} done · ${counts.failed} failed · ${counts.inProgress} in progress</div>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge ${status}">${status.replace('_', ' ')}</span>`;
}
