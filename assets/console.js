// Live console: the server says when something changed (server-sent events); a board
// then refetches itself and swaps in the fresh list, a detail page offers a reload so
// nothing typed is lost. Pages work without this script.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch) return;
  var live = document.querySelector("[data-live]");
  var notice = document.querySelector(".live-notice");
  function refresh() {
    if (live && live.getAttribute("data-live") === "replace") {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(live.id);
          var active = document.activeElement;
          // Swapping under someone's keyboard focus would throw them to the top.
          if (fresh && !(active && live.contains(active) && active !== document.body)) {
            live.innerHTML = fresh.innerHTML;
          } else if (notice) {
            notice.hidden = false;
          }
        })
        .catch(function () { if (notice) notice.hidden = false; });
    } else if (notice) {
      notice.hidden = false;
    }
  }
  var source = new EventSource("/console/events");
  // SLA clocks move even when nothing else does.
  if (live && live.getAttribute("data-live") === "replace") setInterval(refresh, 60000);
  source.addEventListener("change", refresh);
  // Browsers allow few connections per server: a page being left gives its stream back
  // at once instead of when the server next writes to it.
  window.addEventListener("pagehide", function () { source.close(); });
})();
