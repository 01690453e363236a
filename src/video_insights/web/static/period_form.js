// The time-period form the dashboard and the rooms list share (web/pages/period_form.py reads it).
// The server writes date-times in UTC; here they are shown and entered in the viewer's time zone,
// and `_tz` tells the server which zone that is. Without this script the form works in UTC.
(function () {
  "use strict";
  // In UTC mode (`tz=utc`, web/display_zone.py) the inputs are UTC and `_tz` says so.
  const utc = document.documentElement.dataset.tz === "utc";
  const zone = utc ? "UTC" : Intl.DateTimeFormat().resolvedOptions().timeZone;
  const pad = (n) => String(n).padStart(2, "0");

  function localValue(at) {
    if (utc) return at.toISOString().slice(0, at.getUTCSeconds() ? 19 : 16);
    const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
    const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
    return `${day}T${clock}${at.getSeconds() ? ":" + pad(at.getSeconds()) : ""}`;
  }

  function setUp(form) {
    for (const input of form.querySelectorAll("input[data-utc]")) {
      if (!input.value) continue;
      const at = new Date(input.value + "Z");
      if (!Number.isNaN(at.getTime())) input.value = localValue(at);
    }
    for (const hidden of form.querySelectorAll("input[data-viewer-zone]")) hidden.value = zone;
    for (const label of form.querySelectorAll("[data-zone-name]")) label.textContent = `(${zone})`;
    const period = form.querySelector("select[data-period]");
    if (!period) return;
    const custom = form.querySelectorAll("[data-custom-period]");
    const show = () => { for (const el of custom) el.hidden = period.value !== "custom"; };
    period.addEventListener("change", show);
    show();
  }

  // A page is replaced by the next one on submit; say so while the server answers.
  function busy(form) {
    form.addEventListener("submit", () => document.body.classList.add("is-busy"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form")) {
      if (form.querySelector("[data-period], [data-utc]")) setUp(form);
      if (form.hasAttribute("data-busy-on-submit")) busy(form);
    }
  });
  // Coming back to a page from the history shows it as it was, not as it was when left.
  window.addEventListener("pageshow", () => document.body.classList.remove("is-busy"));
})();
