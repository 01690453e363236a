// The dashboard's three graphs, drawn with ECharts from the JSON the server embedded in the page.
// Every bucket carries the link to its rooms list; a click anywhere over a bucket follows it.
(function () {
  "use strict";
  const PALETTE = ["#0263e0", "#14b053", "#f47c22", "#8c5bd8", "#00a6b6", "#e5386f", "#8891aa", "#b38600"];
  const INK = "#121c2d", MUTED = "#606b85", LINE = "#e1e3ea";

  // Hourly buckets are shown in the viewer's zone; daily buckets are UTC days, and say so (a UTC day
  // starts in the evening before in the Americas, so local dates would name the wrong day).
  function labels(data) {
    const hourly = data.granularity === "hour";
    const zone = hourly ? {} : { timeZone: "UTC" };
    const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", ...zone });
    const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
    const full = new Intl.DateTimeFormat(undefined, hourly
      ? { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { weekday: "short", month: "short", day: "numeric", year: "numeric", ...zone });
    const times = data.times.map((t) => new Date(t));
    const long = hourly && times.length > 48;  // a week of hours: label the days only
    return {
      axis: times.map((at, i) => {
        if (!hourly) return day.format(at);
        // The date where a day starts, the hour elsewhere: one short line per label.
        const newDay = i > 0 && at.getDate() !== times[i - 1].getDate();
        if (long) return newDay ? day.format(at) : "";
        return newDay ? day.format(at) : clock.format(at);
      }),
      every: long ? 0 : "auto",
      full: times.map((at) => full.format(at) + (hourly ? "" : " (UTC day)")),
    };
  }

  function base(names) {
    const full = names.full;
    return {
      animationDuration: 300,
      color: PALETTE,
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, left: 0, type: "scroll", textStyle: { color: INK } },
      tooltip: {
        trigger: "axis", confine: true,
        axisPointer: { type: "shadow" },
        // Series names are client-reported values (browsers, OSes, regions): DOM text, never HTML.
        formatter: (items) => {
          if (!items.length) return "";
          return VI.tooltip(full[items[0].dataIndex], items.map((p) => ({
            color: p.color, label: p.seriesName + ": ", value: Number(p.value).toLocaleString() })),
          "Click to list these rooms");
        },
      },
      xAxis: { type: "category", data: names.axis, axisLabel: { color: MUTED, hideOverlap: true, interval: names.every },
               axisLine: { lineStyle: { color: LINE } }, axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: LINE } } },
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

  function roomsChart(data, names) {
    const r = data.rooms;
    const bars = (name, values, color) => ({ name, type: "bar", stack: "rooms", data: values,
      itemStyle: { color }, emphasis: { focus: "series" }, barMaxWidth: 48 });
    const chart = draw("chart-rooms", { ...base(names),
      series: [bars("Without issues", r.without, "#0263e0"), bars("With issues", r.with, "#d61f1f")] });
    // Below the top of the lower bar: rooms without issues; within the upper bar: with; above: all.
    clickable(chart, (i, y) => {
      if (i < 0 || i >= r.without.length) return null;
      if (y <= r.without[i]) return r.links.without[i];
      if (y <= r.without[i] + r.with[i]) return r.links.with[i];
      return r.links.all[i];
    });
    return chart;
  }

  function participantsChart(data, names) {
    const p = data.participants;
    const series = p.values.map((v, k) => ({ name: v, type: "line", stack: "participants", data: p.series[v],
      areaStyle: { opacity: 0.85 }, lineStyle: { width: 1 }, symbol: "none", smooth: false,
      color: PALETTE[k % PALETTE.length], emphasis: { focus: "series" } }));
    const option = base(names);
    option.tooltip.axisPointer = { type: "line" };
    option.xAxis.boundaryGap = false;
    option.grid.right = 28;  // room for the last hour's label at the edge
    const chart = draw("chart-participants", { ...option, series });
    clickable(chart, (i) => p.links[i] || null);
    for (const swatch of document.querySelectorAll("[data-swatch]")) {
      swatch.style.background = PALETTE[Number(swatch.dataset.swatch) % PALETTE.length];
    }
    return chart;
  }

  function minutesChart(data, names) {
    const m = data.minutes;
    const line = (name, values, color, previous) => ({ name, type: "line", data: values, color,
      symbol: previous ? "none" : "circle", symbolSize: 4, smooth: false, showSymbol: values.length <= 48,
      lineStyle: { width: previous ? 1.5 : 2, type: previous ? "dashed" : "solid" },
      areaStyle: previous ? undefined : { opacity: 0.08 } });
    const option = base(names);
    option.tooltip.axisPointer = { type: "line" };
    option.tooltip.formatter = (items) => {
      if (!items.length) return "";
      return VI.tooltip(names.full[items[0].dataIndex], items.map((p) => ({ color: p.color, label: p.seriesName + ": ",
        value: Number(p.value).toLocaleString(undefined, { maximumFractionDigits: 1 }) })));
    };
    option.yAxis.minInterval = 0;
    const chart = draw("chart-minutes", { ...option, series: [
      line("Participant minutes", m.participant_minutes, "#0263e0", false),
      line("Recording minutes", m.recording_minutes, "#14b053", false),
      line("Participant minutes, previous period", m.previous_participant_minutes, "#7fa8e6", true),
      line("Recording minutes, previous period", m.previous_recording_minutes, "#86d3a4", true),
    ] });
    clickable(chart, (i) => m.links[i] || null);
    return chart;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    const names = labels(data);
    const charts = [roomsChart(data, names), participantsChart(data, names), minutesChart(data, names)];
    window.addEventListener("resize", () => { for (const c of charts) c.resize(); });
  });
})();
