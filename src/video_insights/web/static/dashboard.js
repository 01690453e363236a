// The dashboard's three graphs, drawn with ECharts from the JSON the server embedded in the page.
// Every bucket carries the link to its rooms list; a click anywhere over a bucket follows it.
// The three share one time axis: the same buckets, the same grid margins (see `align`), so that an
// hour sits at the same x in each. Colours come from the stylesheet (VI.chartTheme), in both schemes.
(function () {
  "use strict";

  // A segment value keeps its colour whatever else is shown (24 h or 7 days, with or without issues):
  // known values have a fixed slot each, distinct within their segment; any other value is hashed
  // into the palette. "Unknown" and "Other" are greys, so they never look like a real value.
  const KNOWN = {
    browser: ["Chrome", "Mobile Safari", "Safari", "Edge", "Chrome Mobile", "Firefox", "iOS SDK", "Android SDK",
      "Samsung Internet", "Chrome Mobile iOS", "Chrome Mobile WebView", "Electron"],
    os: ["Windows", "iOS", "Mac OS X", "Android", "Linux", "Chrome OS", "Ubuntu"],
    device_manufacturer: ["Apple", "Samsung", "Google", "Xiaomi", "Motorola", "OnePlus", "Huawei", "Oppo", "Lenovo"],
    sdk: ["twilio-video.js", "video-insights-collector", "twilio-video-ios", "twilio-video-android"],
    signaling_region: ["us1", "ie1", "sg1", "de1", "au1", "jp1", "br1", "in1", "us2"],
    end_reason: ["participant_disconnected", "signaling_connection_error", "media_connection_error",
      "signaling_connection_timeout"],
  };

  function colourOf(theme, segment, value) {
    if (value === "Unknown") return theme.unknown;
    if (value === "Other") return theme.other;
    const palette = theme.series;
    const slot = (KNOWN[segment] || []).indexOf(value);
    if (slot >= 0) return palette[slot % palette.length];
    let h = 2166136261;  // FNV-1a of the value
    for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 16777619);
    return palette[(h >>> 0) % palette.length];
  }

  // Hourly buckets are shown in the viewer's zone; daily buckets are UTC days, and say so (a UTC day
  // starts in the evening before in the Americas, so local dates would name the wrong day).
  function labels(data) {
    const hourly = data.granularity === "hour";
    const zone = hourly ? VI.zoneOptions : { timeZone: "UTC" };  // hours: local, or UTC with ?tz=utc
    const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", ...zone });
    const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", ...zone });
    const full = new Intl.DateTimeFormat(undefined, hourly
      ? { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short", ...zone }
      : { weekday: "short", month: "short", day: "numeric", year: "numeric", ...zone });
    const moment = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", ...VI.zoneOptions });
    const times = data.times.map((t) => new Date(t));
    const long = hourly && times.length > 48;  // a week of hours: label the days only
    return {
      axis: times.map((at, i) => {
        if (!hourly) return day.format(at);
        // The date where a day starts, the hour elsewhere: one short line per label.
        const newDay = i > 0 && day.format(at) !== day.format(times[i - 1]);
        if (long) return newDay ? day.format(at) : "";
        return newDay ? day.format(at) : clock.format(at);
      }),
      every: long ? 0 : "auto",
      full: times.map((at, i) => {
        const head = full.format(at) + (hourly ? "" : " (UTC day)");
        if (!data.partial[i]) return head;
        // A bucket the window cuts counts only part of its hour or day: say which part.
        const [from, to] = data.spans[i].map((t) => moment.format(new Date(t)));
        return head + " — partial: " + from + " to " + to;
      }),
    };
  }

  // Lighter and hatched: a bucket the window cuts (the hour in progress) is not a drop.
  function partialStyle(theme) {
    return { opacity: 0.45, decal: { symbol: "rect", color: theme.bg, dashArrayX: [1, 0], dashArrayY: [2, 4],
                                     rotation: -Math.PI / 4 } };
  }

  function partialArea(data, theme) {
    const areas = [];
    // From the whole bucket beside it to the cut one: the stretch of line that would read as a drop.
    const last = data.partial.length - 1;
    data.partial.forEach((cut, i) => {
      if (cut && last > 0) areas.push(i === 0 ? [{ xAxis: 0 }, { xAxis: 1 }] : [{ xAxis: i - 1 }, { xAxis: i }]);
    });
    return { silent: true, data: areas, label: { show: true, position: "insideTop", color: theme.muted, fontSize: 11,
                                                   formatter: "partial" },
             itemStyle: { color: theme.partial, opacity: 0.16 } };
  }

  function base(names, theme) {
    const full = names.full;
    return {
      animationDuration: 300,
      color: theme.series,
      backgroundColor: "transparent",
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, left: 0, type: "scroll", textStyle: { color: theme.ink },
                pageTextStyle: { color: theme.muted }, inactiveColor: theme.line },
      tooltip: {
        trigger: "axis", confine: true, ...theme.tooltip,
        axisPointer: { type: "shadow" },
        // Series names are client-reported values (browsers, OSes, regions): DOM text, never HTML.
        formatter: (items) => {
          if (!items.length) return "";
          return VI.tooltip(full[items[0].dataIndex], items.map((p) => ({
            color: p.color, label: p.seriesName + ": ", value: Number(p.value).toLocaleString() })),
          "Click to list these rooms");
        },
      },
      xAxis: { type: "category", data: names.axis, boundaryGap: true,
               axisLabel: { color: theme.muted, hideOverlap: true, interval: names.every },
               axisLine: { lineStyle: { color: theme.line } }, axisTick: { alignWithLabel: true, lineStyle: { color: theme.line } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: theme.muted }, splitLine: { lineStyle: { color: theme.line } } },
    };
  }

  // Follow the link of the bucket under the pointer; `pick(index, value)` chooses among the bucket's links.
  function clickable(chart, pick) {
    const zr = chart.getZr();
    zr.on("click", (e) => {
      const point = [e.offsetX, e.offsetY];
      if (!chart.containPixel({ gridIndex: 0 }, point)) return;
      const [index, value] = chart.convertFromPixel({ gridIndex: 0 }, point);
      const href = pick(Math.round(index), value);
      if (href) window.location.assign(href);
    });
    zr.on("mousemove", (e) => {
      zr.setCursorStyle(chart.containPixel({ gridIndex: 0 }, [e.offsetX, e.offsetY]) ? "pointer" : "default");
    });
  }

  function draw(id, option) {
    const el = document.getElementById(id);
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    const loading = el.parentElement.querySelector("[data-loading]");
    if (loading) loading.remove();
    return chart;
  }

  function roomsChart(data, names, theme) {
    const r = data.rooms;
    const cut = partialStyle(theme);
    const bars = (name, values, color) => ({ name, type: "bar", stack: "rooms", barMaxWidth: 48,
      data: values.map((v, i) => (data.partial[i] ? { value: v, itemStyle: cut } : v)),
      itemStyle: { color }, emphasis: { focus: "series" } });
    const chart = draw("chart-rooms", { ...base(names, theme),
      series: [bars("Without issues", r.without, theme.good), bars("With issues", r.with, theme.bad)] });
    // Below the top of the lower bar: rooms without issues; within the upper bar: with; above: all.
    clickable(chart, (i, y) => {
      if (i < 0 || i >= r.without.length) return null;
      if (y <= r.without[i]) return r.links.without[i];
      if (y <= r.without[i] + r.with[i]) return r.links.with[i];
      return r.links.all[i];
    });
    return chart;
  }

  function participantsChart(data, names, theme) {
    const p = data.participants;
    const series = p.values.map((v, k) => ({ name: v, type: "line", stack: "participants", data: p.series[v],
      areaStyle: { opacity: 0.85 }, lineStyle: { width: 1 }, symbol: "none", smooth: false,
      color: colourOf(theme, p.segment, v), emphasis: { focus: "series" },
      markArea: k === 0 ? partialArea(data, theme) : undefined }));
    const option = base(names, theme);
    option.tooltip.axisPointer = { type: "line" };
    const chart = draw("chart-participants", { ...option, series });
    clickable(chart, (i) => p.links[i] || null);
    for (const swatch of document.querySelectorAll("[data-swatch]")) {
      swatch.style.background = colourOf(theme, p.segment, swatch.dataset.swatch);
    }
    return chart;
  }

  function minutesChart(data, names, theme) {
    const m = data.minutes;
    const line = (name, values, color, previous) => ({ name, type: "line", data: values, color,
      symbol: previous ? "none" : "circle", symbolSize: 4, smooth: false, showSymbol: values.length <= 48,
      lineStyle: { width: previous ? 1.5 : 2, type: previous ? "dashed" : "solid" },
      areaStyle: previous ? undefined : { opacity: 0.08 } });
    const option = base(names, theme);
    option.tooltip.axisPointer = { type: "line" };
    option.tooltip.formatter = (items) => {
      if (!items.length) return "";
      return VI.tooltip(names.full[items[0].dataIndex], items.map((p) => ({ color: p.color, label: p.seriesName + ": ",
        value: p.value === null || p.value === undefined ? "no data"
          : Number(p.value).toLocaleString(undefined, { maximumFractionDigits: 1 }) })));
    };
    option.yAxis.minInterval = 0;
    const current = line("Participant minutes", m.participant_minutes, theme.series[0], false);
    current.markArea = partialArea(data, theme);
    const chart = draw("chart-minutes", { ...option, series: [
      current,
      line("Recording minutes", m.recording_minutes, theme.series[1], false),
      line("Participant minutes, previous period", m.previous_participant_minutes, theme.previous[0], true),
      line("Recording minutes, previous period", m.previous_recording_minutes, theme.previous[1], true),
    ] });
    clickable(chart, (i) => m.links[i] || null);
    return chart;
  }

  // The same grid margins for all three: each chart's widest axis labels decide its own margins when
  // drawn alone, so take the widest of all and give it to every one (the charts are equally wide).
  function align(charts) {
    const rects = charts.map((c) => c.getModel().getComponent("grid").coordinateSystem.getRect());
    const widest = (edge) => Math.ceil(Math.max(...rects.map((r, k) => edge(r, charts[k]))));
    const grid = { left: widest((r) => r.x), right: widest((r, c) => c.getWidth() - r.x - r.width),
                   top: widest((r) => r.y), bottom: widest((r, c) => c.getHeight() - r.y - r.height),
                   containLabel: false, outerBoundsMode: "none" };
    for (const c of charts) c.setOption({ grid });
  }

  function drawAll(data, theme) {
    const names = labels(data);
    const charts = [roomsChart(data, names, theme), participantsChart(data, names, theme), minutesChart(data, names, theme)];
    align(charts);
    return charts;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    let charts = drawAll(data, VI.chartTheme());
    window.addEventListener("resize", () => { for (const c of charts) c.resize(); });
    VI.onSchemeChange((theme) => {
      for (const c of charts) c.dispose();
      charts = drawAll(data, theme);
    });
  });
})();
