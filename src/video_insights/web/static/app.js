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

  // The one way the console turns data into markup: DOM nodes, every string added as a text node.
  // Names, browsers, regions and limitation reasons come from clients' telemetry and are hostile;
  // none of them may reach innerHTML (docs/security.md, "Untrusted strings in the console").
  function node(tag, className, ...children) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));  // append(string) makes a text node
    }
    return el;
  }

  // A chart tooltip: a heading, one line per series (its colour, its name, its value), an optional note.
  // ECharts takes the element as it is (formatter may return a DOM node), so nothing is parsed as HTML.
  function tooltip(head, lines, note) {
    const box = node("div", "tt", node("div", "tt-head", head));
    for (const line of lines) {
      const marker = node("span", "tt-marker");
      if (typeof line.color === "string") marker.style.backgroundColor = line.color;
      box.append(node("div", "tt-line", marker, line.label === undefined ? null : node("span", "tt-label", line.label),
                      line.value === undefined ? null : node("b", "tt-value", line.value),
                      line.detail ? node("span", "tt-detail", line.detail) : null));
    }
    if (note) box.append(node("div", "tt-note", note));
    return box;
  }

  // Copy buttons beside SIDs and URLs (the _room_macros.html `copyable` macro).
  function copyButtons(root) {
    root.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button.copy[data-copy]") : null;
      if (!button) return;
      const done = () => {
        button.classList.add("copied");
        button.title = "Copied";
        setTimeout(() => { button.classList.remove("copied"); button.title = button.getAttribute("aria-label"); }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(button.dataset.copy).then(done, () => selectText(button));
      } else {
        selectText(button);
      }
    });
  }

  // Without the clipboard API (plain http on a LAN address) the text is selected for Ctrl+C.
  function selectText(button) {
    const text = button.parentElement.querySelector(".mono");
    if (!text) return;
    const range = document.createRange();
    range.selectNodeContents(text);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  window.VI = { localiseTimes, zone, dateTime, node, tooltip };
  document.addEventListener("DOMContentLoaded", () => {
    localiseTimes(document);
    autosubmit(document);
    copyButtons(document);
  });
})();
