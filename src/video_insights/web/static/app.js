// Video Insights console: what every page shares. Plain script, no build step.
(function () {
  "use strict";
  // The viewer's time zone, or UTC when the URL says `tz=utc` (web/display_zone.py).
  const root = document.documentElement;
  const utc = root.dataset.tz === "utc";
  const zoneOptions = utc ? { timeZone: "UTC" } : {};
  const dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZoneName: "short", ...zoneOptions,
  });
  const dateOnly = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", ...zoneOptions });
  const zone = utc ? "UTC" : Intl.DateTimeFormat().resolvedOptions().timeZone;

  // Server-rendered times are UTC; show them in the chosen zone, which each time names.
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

  // In UTC, every link to a console page and every form carries `tz=utc`, so the choice lasts across
  // pages (links the scripts draw later included: this looks at the link when it is followed).
  function carryZone(doc) {
    if (!utc) return;
    const pages = (root.dataset.tzPages || "").split(" ").filter(Boolean);
    const isPage = (url) => url.origin === location.origin &&
      (url.pathname === "/" || pages.some((p) => url.pathname.startsWith(p)));
    const onLink = (event) => {
      const a = event.target instanceof Element ? event.target.closest("a[href]") : null;
      if (!a || a.hasAttribute("data-zone")) return;
      const url = new URL(a.href, location.href);
      if (!isPage(url) || url.searchParams.get("tz") === "utc") return;
      url.searchParams.set("tz", "utc");
      a.href = url.pathname + url.search + url.hash;
    };
    for (const type of ["click", "auxclick", "contextmenu"]) doc.addEventListener(type, onLink, true);
    doc.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      const url = new URL(form.action, location.href);
      if (!isPage(url)) return;
      if (form.method.toLowerCase() === "get") {
        if (!form.querySelector("input[name=tz]")) form.append(Object.assign(document.createElement("input"), { type: "hidden", name: "tz", value: "utc" }));
      } else {
        url.searchParams.set("tz", "utc");
        form.action = url.pathname + url.search;
      }
    }, true);
  }

  // The charts' colours, read from the stylesheet's variables (app.css, top) so that they follow
  // prefers-color-scheme like the rest of the page; `series` is the palette, in slot order.
  function chartTheme() {
    const style = getComputedStyle(document.documentElement);
    const v = (name) => style.getPropertyValue(name).trim();
    const series = [];
    for (let i = 0; v("--series-" + i); i++) series.push(v("--series-" + i));
    return {
      ink: v("--chart-ink"), muted: v("--chart-muted"), line: v("--chart-line"), bg: v("--chart-bg"),
      threshold: v("--chart-threshold"), partial: v("--chart-partial"), series,
      unknown: v("--series-unknown"), other: v("--series-other"), good: v("--series-good"), bad: v("--series-bad"),
      previous: [v("--series-previous-0"), v("--series-previous-1")],
      // ECharts' own tooltip box, which draws no text of ours (VI.tooltip's nodes take --ink and --muted).
      tooltip: { backgroundColor: v("--chart-bg"), borderColor: v("--chart-line"), textStyle: { color: v("--chart-ink") } },
    };
  }

  // Charts are drawn with the colours of the scheme at the time: redraw them when it changes.
  function onSchemeChange(redraw) {
    const query = window.matchMedia("(prefers-color-scheme: dark)");
    query.addEventListener("change", () => redraw(chartTheme()));
  }

  window.VI = { localiseTimes, zone, zoneOptions, utc, dateTime, node, tooltip, chartTheme, onSchemeChange };
  document.addEventListener("DOMContentLoaded", () => {
    localiseTimes(document);
    autosubmit(document);
    copyButtons(document);
    carryZone(document);
  });
})();
