// Live view (/live): follows the server's board stream (Server-Sent Events) and redraws the page of
// rooms it carries. Plain script, no build step. Room names, identities, browsers and OS names come
// from clients' telemetry and are hostile: every one is a text node (VI.node), never HTML.
(function () {
  "use strict";
  const board = document.getElementById("live-board");
  if (!board) return;
  const table = document.getElementById("live-table");
  const state = document.getElementById("live-state");
  const problem = document.getElementById("live-problem");
  const node = window.VI.node;
  const ISSUE_TITLES = JSON.parse(document.getElementById("issue-titles").textContent);
  const ROOM_TYPES = JSON.parse(document.getElementById("room-types").textContent);
  let clockOffset = 0; // server time − this browser's time, so that durations run on the server's clock

  function duration(ms) {
    if (ms == null || !(ms >= 0)) return "—";
    const s = Math.floor(ms / 1000);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? h + "h " + two(m) + "m " + two(sec) + "s" : (m ? m + "m " + two(sec) + "s" : sec + "s");
  }

  function kbps(bps) {
    if (bps == null) return "—";
    return bps >= 1e6 ? (bps / 1e6).toFixed(2) + " Mbps" : Math.round(bps / 1e3).toLocaleString() + " kbps";
  }

  function pct(v) {
    return v == null ? "—" : v.toFixed(v >= 10 ? 0 : 1) + " %";
  }

  function over(p, issue) {
    return p.crossed.indexOf(issue) >= 0;
  }

  function numCell(text, bad) {
    return node("td", "num" + (bad ? " over" : ""), text);
  }

  function since(el, startMs) {
    el.dataset.since = String(startMs == null ? "" : startMs);
    el.textContent = startMs == null ? "—" : duration(Date.now() + clockOffset - startMs);
    return el;
  }

  function issueBadges(types) {
    const cell = node("td", "issues");
    for (const t of types) cell.append(node("span", "badge bad", ISSUE_TITLES[t] || t));
    return cell;
  }

  function participantRow(room, p) {
    const row = node("tr", p.crossed.length ? "crossed" : "");
    row.dataset.participantSid = p.participant_sid;
    if (p.crossed.length) row.dataset.crossed = p.crossed.join(" ");
    const link = node("a", null, p.identity || p.participant_sid);
    link.href = "/rooms/" + encodeURIComponent(room.room_sid) + "/participants/" + encodeURIComponent(p.participant_sid);
    const marker = p.crossed.length
      ? node("span", "marker", "▲")
      : null;
    if (marker) {
      marker.title = "Over a threshold in the last interval: " + p.crossed.map((t) => ISSUE_TITLES[t] || t).join(", ");
      marker.setAttribute("aria-label", marker.title);
    }
    const loss = pct(p.send_loss_pct) + " / " + pct(p.recv_loss_pct);
    row.append(
      node("td", "person", marker, link),
      since(node("td", "num"), p.join_ms),
      node("td", null, p.browser || "—"),
      node("td", null, p.os || "—"),
      numCell(kbps(p.send_bps)), numCell(kbps(p.recv_bps)),
      numCell(loss, over(p, "packet_loss")),
      numCell(p.rtt_ms == null ? "—" : Math.round(p.rtt_ms) + " ms", over(p, "round_trip_time")),
      issueBadges(p.issue_types));
    return row;
  }

  function roomBody(room) {
    const body = node("tbody", "room" + (room.crossing ? " crossing" : ""));
    body.dataset.roomSid = room.room_sid;
    const link = node("a", "room-name", room.room_name || room.room_sid);
    link.href = "/rooms/" + encodeURIComponent(room.room_sid);
    const facts = node("span", "room-facts muted small",
      room.room_type ? (ROOM_TYPES[room.room_type] || room.room_type) + " · " : "",
      room.participant_count ? room.participant_count + (room.participant_count === 1 ? " participant" : " participants")
        : "nobody connected",
      " · started ", since(node("span", null), room.create_ms), " ago");
    const head = node("th", null, link, " ", node("span", "mono muted small", room.room_sid), " ", facts, " ",
      room.issue_count ? node("span", "badge bad", room.issue_count + (room.issue_count === 1 ? " issue" : " issues")) : null,
      room.crossing ? node("span", "badge over", room.crossing + " over a threshold now") : null);
    head.colSpan = 9;
    head.scope = "rowgroup";
    body.append(node("tr", "room-head", head));
    for (const p of room.participants) body.append(participantRow(room, p));
    const hidden = room.participant_count - room.participants.length;
    if (hidden > 0) {
      const more = node("a", null, hidden + " more participants");
      more.href = link.href;
      const cell = node("td", "muted small", more);
      cell.colSpan = 9;
      body.append(node("tr", "more", cell));
    }
    return body;
  }

  function showTotals(totals) {
    for (const el of document.querySelectorAll("[data-total]")) {
      el.textContent = Number(totals[el.dataset.total] || 0).toLocaleString();
    }
    document.querySelector(".live-totals .crossing").classList.toggle("bad", totals.crossing > 0);
  }

  function showPager(b) {
    const pager = document.getElementById("live-pager");
    const first = b.page * b.page_size;
    pager.hidden = b.totals.rooms === 0;
    document.getElementById("live-range").textContent = "Rooms " + (first + 1).toLocaleString() + "–" +
      (first + b.rooms.length).toLocaleString() + " of " + b.totals.rooms.toLocaleString() + ", worst first";
    const prev = document.getElementById("live-prev"), next = document.getElementById("live-next");
    prev.hidden = b.page === 0;
    prev.href = "/live?page=" + (b.page - 1);
    next.hidden = b.page >= b.page_count - 1;
    next.href = "/live?page=" + (b.page + 1);
  }

  function show(b) {
    clockOffset = b.now_ms - Date.now();
    for (const old of table.querySelectorAll("tbody")) old.remove();
    for (const room of b.rooms) table.append(roomBody(room));
    showTotals(b.totals);
    showPager(b);
    document.getElementById("live-loading").hidden = true;
    document.getElementById("live-empty").hidden = b.rooms.length > 0;
    table.hidden = b.rooms.length === 0;
    state.textContent = "Live";
    state.title = "Updated " + new Date().toLocaleTimeString();
  }

  function tick() {
    for (const el of board.querySelectorAll("[data-since]")) {
      const start = el.dataset.since;
      if (start) el.textContent = duration(Date.now() + clockOffset - Number(start));
    }
  }

  const source = new EventSource(board.dataset.stream);
  source.addEventListener("board", (e) => {
    problem.hidden = true;
    show(JSON.parse(e.data));
  });
  source.addEventListener("problem", (e) => {
    const message = JSON.parse(e.data).message;
    problem.hidden = !message;
    problem.textContent = message || "";
  });
  source.addEventListener("open", () => { state.textContent = "Live"; });
  source.addEventListener("error", () => { state.textContent = "Reconnecting…"; });
  setInterval(tick, 1000);
})();
