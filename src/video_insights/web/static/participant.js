// Participant summary: the Send/Receive tabs and the quality graphs. Plain script, no build step.
// The data is embedded in the page (#graph-data), so nothing is fetched. All graphs share one time
// axis and one ECharts `connect` group: zooming any of them (or the bar above them) zooms them all.
(function () {
  "use strict";
  const GROUP = "participant-quality";
  const ZOOM_ID = "time-zoom"; // the same id in every chart, so a connected dataZoom action applies to each
  // Colours from the stylesheet (app.css), so the graphs and their threshold lines follow the colour scheme.
  // Taken again when the scheme changes, and every graph redrawn (see start).
  let THEME = VI.chartTheme();
  let BAD = THEME.threshold;
  let PALETTE = THEME.series;
  const GRID = { left: 56, right: 20, top: 34, bottom: 28 };

  const dataEl = document.getElementById("graph-data");
  const liveUrl = (document.getElementById("quality") || { dataset: {} }).dataset.live;
  if (!dataEl) {
    // No data yet: the first graphs of a participant in progress need the page's panels, so reload.
    if (liveUrl) follow(() => false);
    return;
  }
  let data = JSON.parse(dataEl.textContent);
  const dateTime = (window.VI && window.VI.dateTime) || new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const inZone = (window.VI && window.VI.zoneOptions) || {};  // UTC when the URL says tz=utc
  const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", ...inZone });
  // Seconds on the axis only when the whole range is short enough for them to matter.
  const axisTime = data.range[1] - data.range[0] > 10 * 60 * 1000
    ? new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", ...inZone }) : timeOnly;

  const charts = new Map(); // element → ECharts instance
  let zoomBar = null;
  let zoom = { start: 0, end: 100 };

  function fixed(v, digits) {
    return Number(v.toFixed(digits)).toLocaleString();
  }

  function bitrate(bps) {
    if (bps == null) return "not measured";
    return bps >= 1e6 ? fixed(bps / 1e6, 2) + " Mbps" : fixed(bps / 1e3, 0) + " kbps";
  }

  function percent(v, digits) {
    return v == null ? "not measured" : fixed(v, digits) + " %";
  }

  // What each graph shows: the metric's column, how its values read, its issue threshold. The Send
  // tab draws bitrate, loss and RTT of each published track; the Receive tab bitrate, loss, jitter and
  // freezes (video) or concealment (audio) of each incoming track.
  const METRICS = {
    bitrate: {
      title: "Bitrate (kbps)", field: "bitrate_bps", axis: "kbps", scale: 1e-3, threshold: null,
      text: bitrate, column: "Bitrate", // its text says kbps or Mbps
    },
    loss: {
      title: "Packet loss (%)", field: "packet_loss_pct", axis: "%", scale: 1,
      threshold: data.thresholds.packet_loss_pct,
      text: (v) => (v == null ? "not measured" : fixed(v, 2) + " %"),
    },
    rtt: {
      title: "Round trip time (ms)", field: "rtt_ms", axis: "ms", scale: 1, threshold: data.thresholds.rtt_ms,
      text: (v) => (v == null ? "not measured" : fixed(v, 0) + " ms"),
    },
    jitter: {
      title: "Jitter (ms)", field: "jitter_ms", axis: "ms", scale: 1, threshold: data.thresholds.jitter_ms,
      text: (v) => (v == null ? "not measured" : fixed(v, 1) + " ms"),
    },
    // Time frozen as a share of each interval, which the video-freezes issue judges over the whole call.
    freezes: {
      title: "Frozen (% of time)", field: "freezes_duration_s", axis: "%", scale: 100000 / data.interval_ms,
      threshold: data.thresholds.frozen_pct, bars: true,
      text: (v) => percent(v == null ? null : v * 100000 / data.interval_ms, 1),
    },
    concealment: {
      title: "Concealed audio (%)", field: "concealment_pct", axis: "%", scale: 1, threshold: null,
      text: (v) => percent(v, 2),
    },
  };

  function points(series, field, scale) {
    // [time, value]; a null value stays null so that the line breaks there (connectNulls is off).
    // Symbols would clutter a long line, but a value with nothing measured on either side is no
    // line at all: only those get a dot.
    const v = series[field];
    return series.t.map((t, i) => {
      const value = [t, v[i] == null ? null : v[i] * scale];
      const alone = v[i] != null && (i === 0 || v[i - 1] == null) && (i === v.length - 1 || v[i + 1] == null);
      return alone ? { value, symbolSize: 5 } : value;
    });
  }

  // A round step (1, 2, 2.5 or 5 × 10ⁿ) at or above v.
  function niceStep(v) {
    if (!(v > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v) return m * power;
    return 10 * power;
  }

  // Y axis that keeps the threshold in view even when every value is far below it, in round steps.
  function axisWithThreshold(values, threshold) {
    let top = threshold * 1.2;
    for (const v of values) if (v != null && v > top) top = v;
    const interval = niceStep(top / 4);
    return { max: Math.ceil(top / interval) * interval, interval };
  }

  function thresholdLine(value, unit) {
    // Labelled in the chart's corner rather than on the line, where the data would cover it.
    return {
      silent: true, symbol: "none", animation: false, label: { show: false },
      lineStyle: { color: BAD, type: "dashed", width: 1.5 },
      data: [{ yAxis: value, name: "issue threshold " + value + " " + unit }],
    };
  }

  function lineSeries(name, pointsData, color, extra) {
    return Object.assign({
      type: "line", name, data: pointsData, connectNulls: false, showSymbol: true, symbol: "circle",
      symbolSize: 0, lineStyle: { width: 1.6 }, itemStyle: { color }, emphasis: { disabled: true },
    }, extra || {});
  }

  function baseOption(title, series, threshold, unit, values) {
    const yAxis = {
      type: "value", min: 0, splitNumber: 3, axisLabel: { color: THEME.muted, hideOverlap: true },
      splitLine: { lineStyle: { color: THEME.line } },
    };
    const titles = [{ text: title, left: 0, top: 0, textStyle: { fontSize: 13, fontWeight: 600, color: THEME.ink } }];
    if (threshold != null) {
      Object.assign(yAxis, axisWithThreshold(values, threshold));
      titles.push({ text: "- - issue threshold " + threshold + " " + unit, right: GRID.right, top: 2,
                    textStyle: { fontSize: 11, fontWeight: 400, color: BAD } });
    }
    return {
      animation: false,
      title: titles,
      grid: GRID,
      xAxis: {
        type: "time", min: data.range[0], max: data.range[1],
        axisLabel: { color: THEME.muted, hideOverlap: true, formatter: (v) => axisTime.format(new Date(v)) },
        axisLine: { lineStyle: { color: THEME.line } },
        splitNumber: 4,
      },
      yAxis,
      tooltip: { trigger: "axis", confine: true, axisPointer: { type: "line" }, ...THEME.tooltip },
      dataZoom: [{ type: "inside", id: ZOOM_ID, xAxisIndex: 0, filterMode: "none", start: zoom.start, end: zoom.end }],
      series,
    };
  }

  // `describe(p)` gives a line's {label, value, detail}; the limitation reason and peer connection ids
  // come from the client, so the tooltip is DOM text (VI.tooltip), never HTML.
  function tooltip(describe) {
    return (params) => {
      const list = Array.isArray(params) ? params : [params];
      if (!list.length) return "";
      return VI.tooltip(dateTime.format(new Date(list[0].value[0])),
                        list.map((p) => Object.assign({ color: p.color }, describe(p))));
    };
  }

  // One graph of one track's panel, on either tab.
  function trackOption(panel, metricName) {
    const m = METRICS[metricName];
    const s = panel.series;
    const color = panel.kind === "audio" ? PALETTE[1] : PALETTE[0];
    const extra = m.threshold != null ? { markLine: thresholdLine(m.threshold, m.axis) } : {};
    if (m.bars) Object.assign(extra, { type: "bar", barMaxWidth: 8, barMinHeight: 0 });
    const option = baseOption(m.title, [lineSeries(m.title, points(s, m.field, m.scale), color, extra)],
                              m.threshold, m.axis, s[m.field].map((v) => (v == null ? null : v * m.scale)));
    option.tooltip.formatter = tooltip((p) => {
      const i = p.dataIndex;
      const value = m.text(s[m.field][i]);
      let detail = "";
      // For video, what the encoder produced at that moment explains a low bitrate.
      if (metricName === "bitrate" && s.frame_height && s.frame_height[i] != null) {
        detail += " · " + s.frame_width[i] + "×" + s.frame_height[i];
        if (s.frame_rate[i] != null) detail += " @ " + fixed(s.frame_rate[i], 0) + " fps";
        const why = s.quality_limitation_reason[i];
        if (why && why !== "none") detail += " (limited by " + why + ")";
      }
      if (metricName === "freezes" && s.freeze_count[i] != null) {
        const n = s.freeze_count[i];
        detail += " · " + n + (n === 1 ? " freeze" : " freezes") + " (" + fixed(s.freezes_duration_s[i], 2) + " s)";
      }
      return { value, detail };
    });
    return option;
  }

  function panelOf(el) {
    return data[el.dataset.panel][Number(el.dataset.trackIndex)];
  }

  function zoomBarOption() {
    // The slider's background is the participant's total sent bitrate: where the call was busy.
    const total = new Map();
    for (const panel of [...data.send, ...data.receive]) {
      if (!panel.series) continue;
      panel.series.t.forEach((t, i) => {
        const v = panel.series.bitrate_bps[i];
        if (v != null) total.set(t, (total.get(t) || 0) + v);
      });
    }
    const shadow = [...total.entries()].sort((a, b) => a[0] - b[0]);
    return {
      animation: false,
      grid: { left: GRID.left, right: GRID.right, top: 0, height: 1 },
      xAxis: { type: "time", min: data.range[0], max: data.range[1], show: false },
      yAxis: { type: "value", show: false },
      series: [{ type: "line", data: shadow, showSymbol: false, lineStyle: { opacity: 0 }, silent: true }],
      dataZoom: [{
        type: "slider", id: ZOOM_ID, xAxisIndex: 0, filterMode: "none", left: GRID.left, right: GRID.right,
        top: 4, height: 26, start: zoom.start, end: zoom.end, brushSelect: false,
        textStyle: { color: THEME.muted }, borderColor: THEME.line,
        labelFormatter: (v) => timeOnly.format(new Date(v)),
      }],
    };
  }

  function init(el, option) {
    el.textContent = ""; // the loading placeholder
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    chart.group = GROUP;
    charts.set(el, chart);
    return chart;
  }

  // Charts in a hidden tab have no size: draw each the first time its tab is shown.
  function drawVisible() {
    for (const el of document.querySelectorAll(".qchart")) {
      if (charts.has(el) || el.closest("[hidden]")) continue;
      init(el, trackOption(panelOf(el), el.dataset.metric));
    }
    echarts.connect(GROUP);
  }

  // Each panel's graphs as a table (the graphs' alternative for screen readers and for copying
  // numbers), built when opened and again when live data arrives; values read as in the tooltips.
  function fillTable(details) {
    const panel = data[details.dataset.panel][Number(details.dataset.trackIndex)];
    const metrics = details.dataset.metrics.split(" ");
    const table = document.createElement("table");
    table.className = "data";
    const head = table.createTHead().insertRow();
    for (const text of ["Time", ...metrics.map((m) => METRICS[m].column || METRICS[m].title)]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.appendChild(th);
    }
    const body = table.createTBody();
    panel.series.t.forEach((t, i) => {
      const row = body.insertRow();
      row.insertCell().textContent = timeOnly.format(new Date(t));
      for (const m of metrics) row.insertCell().textContent = METRICS[m].text(panel.series[METRICS[m].field][i]);
    });
    details.querySelector(".table-wrap").replaceChildren(table);
  }

  function setupTables() {
    for (const details of document.querySelectorAll("details.data-table[data-panel]")) {
      details.addEventListener("toggle", () => { if (details.open) fillTable(details); });
    }
  }

  function onZoom() {
    const dz = zoomBar.getOption().dataZoom[0];
    zoom = { start: dz.start, end: dz.end };
    document.getElementById("reset-zoom").hidden = zoom.start <= 0 && zoom.end >= 100;
  }

  // Tabs: WAI-ARIA tabs pattern (arrow keys, Home/End), the chosen tab kept in the URL.
  function setupTabs() {
    const list = document.getElementById("quality-tabs");
    if (!list) return;
    const tabs = [...list.querySelectorAll("[role=tab]")];

    function select(tab, focus) {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      }
      if (focus) tab.focus();
      const url = new URL(window.location.href);
      if (tab.dataset.tab === "send") url.searchParams.delete("tab");
      else url.searchParams.set("tab", tab.dataset.tab);
      history.replaceState(null, "", url);
      drawVisible();
    }

    list.addEventListener("click", (e) => {
      const tab = e.target.closest("[role=tab]");
      if (!tab) return;
      e.preventDefault();
      select(tab, false);
    });
    list.addEventListener("keydown", (e) => {
      const at = tabs.indexOf(document.activeElement);
      if (at < 0) return;
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length], true);
    });
    // A link to a track (#track-MT…) from the issues table opens the Send tab at that track.
    function followHash() {
      const target = window.location.hash && document.getElementById(window.location.hash.slice(1));
      const panel = target && target.closest("[role=tabpanel]");
      if (panel && panel.hidden) {
        select(document.getElementById(panel.getAttribute("aria-labelledby")), false);
        target.scrollIntoView();
      }
    }
    window.addEventListener("hashchange", followHash);
    followHash();
  }

  // A participant in progress: the server streams its graph data as it grows (Server-Sent Events).
  // `update(next)` redraws in place and says whether it could; a new track or connection needs new
  // panels, and the participant's leaving a final summary, so those reload the page.
  function follow(update) {
    const source = new EventSource(liveUrl);
    source.addEventListener("graphs", (e) => { if (!update(JSON.parse(e.data))) window.location.reload(); });
    source.addEventListener("ended", () => { source.close(); window.location.reload(); });
  }

  function samePanels(next) {
    const ids = (d) => JSON.stringify([d.send.map((p) => [p.id, !p.series]), d.receive.map((r) => [r.id, r.label])]);
    return ids(next) === ids(data);
  }

  function redraw(next) {
    if (!samePanels(next)) return false;
    data = next;
    redrawCharts();
    return true;
  }

  function redrawCharts() {
    for (const [el, chart] of charts) {
      if (el === document.getElementById("zoom-bar")) chart.setOption(zoomBarOption());
      else chart.setOption(trackOption(panelOf(el), el.dataset.metric));
    }
    for (const details of document.querySelectorAll("details.data-table[data-panel][open]")) fillTable(details);
  }

  function start() {
    if (!window.echarts) {
      for (const el of document.querySelectorAll(".qchart .loading")) el.textContent = "The charting library did not load.";
      return;
    }
    const bar = document.getElementById("zoom-bar");
    zoomBar = init(bar, zoomBarOption());
    zoomBar.on("datazoom", onZoom);
    document.getElementById("reset-zoom").addEventListener("click", () => {
      zoomBar.dispatchAction({ type: "dataZoom", dataZoomId: ZOOM_ID, start: 0, end: 100 });
    });
    setupTabs();
    setupTables();
    drawVisible();
    let pending = false;
    new ResizeObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        for (const [el, chart] of charts) if (!el.closest("[hidden]")) chart.resize();
      });
    }).observe(document.getElementById("quality"));
    if (liveUrl) follow(redraw);
    VI.onSchemeChange((theme) => {
      THEME = theme;
      BAD = theme.threshold;
      PALETTE = theme.series;
      redrawCharts();
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
