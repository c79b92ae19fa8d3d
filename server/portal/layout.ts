// The portal's page frame and shared pieces: header with navigation, flash messages, a
// progress bar. Plain HTML and one stylesheet; forms work without JavaScript.
import { html, Html } from './html.js';
import type { PortalUser } from './sessions.js';

const styles = `
:root{--ink:#17202a;--muted:#5b6776;--line:#d8dee6;--bg:#f5f7fa;--brand:#0f5c8c;--ok:#1e7d4f;--bad:#b42318;--warn:#b54708}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line)}header .bar{max-width:72rem;margin:0 auto;padding:.75rem 1.25rem;display:flex;gap:1.5rem;align-items:center}
.logo{font-weight:700;color:var(--brand);text-decoration:none;font-size:1.15rem;letter-spacing:.02em}nav a{color:var(--ink);text-decoration:none;margin-right:1rem}nav a:hover{color:var(--brand)}
.who{margin-left:auto;color:var(--muted);display:flex;gap:.75rem;align-items:center}.who form button{display:inline}td form{display:inline-block;margin-right:.4rem}main{max-width:72rem;margin:1.5rem auto;padding:0 1.25rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;background:#e8eef5;color:var(--ink)}.badge.proposed{background:#fff4e5;color:var(--warn)}.badge.confirmed,.badge.completed,.badge.committed{background:#e7f6ee;color:var(--ok)}
.badge.paused,.badge.cancelled,.badge.failed,.badge.rolled_back{background:#fdecea;color:var(--bad)}.overdue,.breached{color:var(--bad);font-weight:600}tr.breached td{background:#fff5f4}
.flash{padding:.75rem 1rem;border-radius:6px;margin-bottom:1rem}.flash.error{background:#fdecea;color:var(--bad);border:1px solid #f5c2bd}.flash.ok{background:#e7f6ee;color:var(--ok);border:1px solid #b7e1c8}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input,select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid var(--line);border-radius:6px;width:100%;max-width:28rem;background:#fff}
form button{display:block}button{font:inherit;background:var(--brand);color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer;margin-top:.8rem}button.secondary{background:#fff;color:var(--brand);border:1px solid var(--brand)}button.link{background:none;color:var(--brand);padding:0;margin:0}
.choice{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}.choice input{width:auto;margin-top:.3rem}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
.stat{font-size:1.8rem;font-weight:700}.muted{color:var(--muted)}.bar-track{background:#e8eef5;border-radius:4px;height:14px;display:flex;overflow:hidden;min-width:10rem}
.bar-track span{display:block;height:100%}.seg-committed{background:var(--ok)}.seg-failed{background:var(--bad)}.seg-active{background:#5aa2d6}.legend{font-size:.8rem;color:var(--muted)}
iframe.document{width:100%;height:32rem;border:1px solid var(--line);border-radius:8px;background:#fff}.login{max-width:24rem;margin:4rem auto}
`;

export function page(options: { title: string; user?: PortalUser | null; csrf?: string; flash?: { kind: 'error' | 'ok'; text: string } | null; body: Html }): string {
  const { user } = options;
  const nav = !user ? null : user.role === 'customer'
    ? html`<nav><a href="/portal">Plans</a><a href="/portal/devices">Devices</a><a href="/portal/faults">Faults</a><a href="/portal/support">Remote support</a></nav>`
    : html`<nav><a href="/staff">Fleet</a><a href="/staff/plans">Plans</a><a href="/staff/sla">SLA board</a><a href="/staff/support">Support sessions</a></nav>`;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${options.title} · sluice</title><style>${new Html(styles)}</style></head><body>
<header><div class="bar"><a class="logo" href="/">sluice</a>${nav}${user ? html`<div class="who"><span>${user.username}${user.customerName ? html` · ${user.customerName}` : ''}</span>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${options.csrf ?? ''}"><button class="link" type="submit">Sign out</button></form></div>` : ''}</div></header>
<main>${options.flash ? html`<div class="flash ${options.flash.kind}" role="${options.flash.kind === 'error' ? 'alert' : 'status'}">${options.flash.text}</div>` : ''}${options.body}</main></body></html>`.text;
}

/** A plan's progress as a stacked bar (committed, failed, in flight), not only numbers. */
export function progressBar(counts: { total: number; succeeded: number; failed: number; inProgress: number }): Html {
  const share = (value: number) => (counts.total === 0 ? 0 : (value / counts.total) * 100).toFixed(1);
  return html`<div class="bar-track" role="img" aria-label="${counts.succeeded} of ${counts.total} succeeded, ${counts.failed} failed, ${counts.inProgress} in progress">
<span class="seg-committed" style="width:${share(counts.succeeded)}%"></span><span class="seg-failed" style="width:${share(counts.failed)}%"></span><span class="seg-active" style="width:${share(counts.inProgress)}%"></span></div>
<div class="legend">${counts.succeeded}/${counts.total} done · ${counts.failed} failed · ${counts.inProgress} in progress</div>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge ${status}">${status.replace('_', ' ')}</span>`;
}
