// Video Insights console: what every page shares. Plain script, no build step.
(function () {
  "use strict";
  const dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const dateOnly = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // Server-rendered times are UTC; show them in the viewer's time zone.
  function localiseTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]")) {
      const at = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(at.getTime())) continue;
      el.textContent = (el.dataset.style === "date" ? dateOnly : dateTime).format(at);
      el.title = el.getAttribute("datetime") + " (" + zone + ")";
    }
  }

  function autosubmit(root) {
    for (const el of root.querySelectorAll("[data-autosubmit]")) {
      el.addEventListener("change", () => el.form && el.form.requestSubmit());
    }
  }

  window.VI = { localiseTimes, zone, dateTime };
  document.addEventListener("DOMContentLoaded", () => {
    localiseTimes(document);
    autosubmit(document);
  });
})();
