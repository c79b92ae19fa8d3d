// The one script the portal serves (GET /assets/live.js; the CSP allows scripts from 'self'
// only). Progressive enhancement: an element with data-live="SECONDS" is fetched again from
// the same URL every few seconds and its content swapped in place. Without JavaScript the
// page still works; a reload shows the same thing. Paused while the tab is hidden or while
// the user is typing in a form inside the live region.
export const liveScript = `(function () {
  'use strict';
  var regions = document.querySelectorAll('[data-live]');
  if (!regions.length || !window.fetch || !window.DOMParser) return;
  var seconds = Math.max(2, Number(regions[0].getAttribute('data-live')) || 5);
  function busy() {
    var active = document.activeElement;
    return active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }
  function refresh() {
    if (document.hidden || busy()) return schedule();
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'x-sluice-live': '1' } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text) {
          var next = new DOMParser().parseFromString(text, 'text/html');
          regions.forEach(function (region) {
            var fresh = region.id ? next.getElementById(region.id) : null;
            if (fresh) region.innerHTML = fresh.innerHTML;
          });
        }
      })
      .catch(function () { /* offline for a moment: try again later */ })
      .then(schedule);
  }
  function schedule() { window.setTimeout(refresh, seconds * 1000); }
  schedule();
})();
`;
