// The demo-data banner (`serve --demo` filling its account): follows /healthz until the fill ends.
(function () {
  "use strict";
  const POLL_MS = 2000;

  function done(banner, demo) {
    banner.textContent = demo.message + " ";
    if (demo.state === "complete") {
      banner.classList.add("done");
      const reload = document.createElement("a");
      reload.href = window.location.href;
      reload.textContent = "Reload to see all of it.";
      banner.appendChild(reload);
    }
  }

  async function poll(banner) {
    try {
      const r = await fetch("/healthz", { cache: "no-store" });
      const demo = r.ok ? (await r.json()).demo : null;
      if (demo && demo.state !== "generating") {
        done(banner, demo);
        return;
      }
      if (demo) banner.textContent = demo.message;
    } catch (e) {
      // The server is restarting or unreachable: keep the last line and ask again.
    }
    window.setTimeout(() => poll(banner), POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const banner = document.querySelector("[data-demo-progress]");
    if (banner) window.setTimeout(() => poll(banner), POLL_MS);
  });
})();
