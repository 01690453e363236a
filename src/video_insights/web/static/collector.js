/*! Video Insights collector: WebRTC call-quality telemetry for apps that do not use twilio-video.js.
 * Plain script, no dependencies. Load it as a classic <script> (defines window.VideoInsights) or
 * import it (`import VideoInsights from ".../collector.mjs"`). docs/collector.md has the guide. */
(function () {
  "use strict";
  var VERSION = "0.1.0";
  var g = typeof globalThis !== "undefined" ? globalThis : window;
  if (g.VideoInsights && g.VideoInsights.version === VERSION) return; // loaded twice: script and module

  var SAMPLE_MS = 1000; // getStats() every second (state changes are seen within a second)
  var REPORT_EVERY = 10; // a quality/stats-report every 10 samples, as twilio-video.js does
  var MAX_QUEUE = 360; // messages kept, queued or unacknowledged (half an hour of two pcs' reports)
  var BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];
  var BEACON_BYTES = 60000; // sendBeacon refuses more than 64 KiB in flight
  var AUDIO_LEVEL_SCALE = 32767; // twilio-video.js reports audio levels as 0..32767
  var UA_HINTS = ["platform", "platformVersion", "model", "fullVersionList", "architecture", "bitness", "mobile"];
  var LISTS = { outbound: { audio: "localAudioTrackStats", video: "localVideoTrackStats" },
                inbound: { audio: "audioTrackStats", video: "videoTrackStats" } };

  var sessions = [];
  var earlyEvents = []; // getUserMedia outcomes before the first connect(): handed to it

  // -- helpers ----------------------------------------------------------------------------------
  function warn(what, error) {
    try { console.warn("[VideoInsights] " + what, error); } catch (e) { /* no console */ }
  }

  // Runs `fn` so that nothing it throws reaches the app.
  function safe(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { warn("internal error", e); }
    };
  }

  function num(v) { return typeof v === "number" && isFinite(v) ? v : undefined; }
  function ms(v) { return typeof v === "number" && isFinite(v) ? Math.round(v * 1e6) / 1e3 : undefined; }
  function dims(w, h) { return num(w) !== undefined && num(h) !== undefined ? { width: w, height: h } : undefined; }

  // A SID-shaped name for an id (a track id here): the same id always gives the same SID.
  function derivedSid(prefix, text) {
    var out = prefix;
    for (var k = 0; k < 4; k++) {
      var h = (0x811c9dc5 ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0; // FNV-1a, four seeds: 128 bits
      for (var i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
      h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12;
      out += ("0000000" + (h >>> 0).toString(16)).slice(-8);
    }
    return out;
  }

  function randomId() { return Math.random().toString(36).slice(2, 10); }

  function eventsUrl(base) { return base.replace(/\/+$/, "") + "/v1/VideoEvents"; }

  // -- one getStats() report -> a quality/stats-report payload ---------------------------------
  // Reading a stats object costs main-thread time (the browser converts it to JavaScript), so the
  // whole report is walked only when its set of stats changed (or every minute): it gives the ids
  // of the RTP streams, and each stream's stat names the others it needs (codec, source, remote).
  function index(report, w, tick) {
    if (w.index && report.size === w.index.size && tick - w.index.tick < 60) return w.index;
    var ix = { size: report.size, tick: tick, outbound: [], inbound: [], remoteOf: {}, transport: null };
    report.forEach(function (s) {
      if (s.type === "outbound-rtp") ix.outbound.push(s.id);
      else if (s.type === "inbound-rtp") ix.inbound.push(s.id);
      else if (s.type === "remote-inbound-rtp") ix.remoteOf[s.localId || (s.kind || s.mediaType) + s.ssrc] = s.id;
      else if (s.type === "transport" && !ix.transport) ix.transport = s.id;
    });
    return (w.index = ix);
  }

  // Mirrors ingest/getstats.py: one entry per SSRC, cumulative counters, times in ms.
  function buildReport(report, ix, pcId, trackSidOf) {
    var payload = { peerConnectionId: pcId, localAudioTrackStats: [], localVideoTrackStats: [],
                    audioTrackStats: [], videoTrackStats: [] };
    var ids = ix.outbound.concat(ix.inbound);
    for (var i = 0; i < ids.length; i++) {
      var s = report.get(ids[i]), kind = s && (s.kind || s.mediaType);
      if (kind !== "audio" && kind !== "video") continue;
      var codec = s.codecId && report.get(s.codecId);
      var e = { kind: kind, ssrc: String(s.ssrc), timestamp: num(s.timestamp), rid: s.rid,
                codec: codec && codec.mimeType ? codec.mimeType.split("/")[1] : undefined,
                nackCount: num(s.nackCount), pliCount: num(s.pliCount) };
      if (s.type === "outbound-rtp") {
        var src = (s.mediaSourceId && report.get(s.mediaSourceId)) || {};
        var remote = report.get(s.remoteId || ix.remoteOf[s.id] || ix.remoteOf[kind + s.ssrc]) || {};
        e.trackId = src.trackIdentifier;
        e.bytesSent = num(s.bytesSent); e.packetsSent = num(s.packetsSent);
        e.packetsLost = num(remote.packetsLost);
        e.roundTripTime = ms(remote.roundTripTime); e.jitter = ms(remote.jitter);
        e.totalRoundTripTime = num(remote.totalRoundTripTime);
        e.roundTripTimeMeasurements = num(remote.roundTripTimeMeasurements);
        e.retransmittedPacketsSent = num(s.retransmittedPacketsSent);
        if (kind === "audio") {
          e.audioLevel = num(src.audioLevel) !== undefined ? Math.round(src.audioLevel * AUDIO_LEVEL_SCALE) : undefined;
        } else {
          e.captureDimensions = dims(src.width, src.height);
          e.captureFrameRate = num(src.framesPerSecond);
          e.dimensions = dims(s.frameWidth, s.frameHeight);
          e.frameRate = num(s.framesPerSecond);
          e.qualityLimitationReason = s.qualityLimitationReason;
          e.qualityLimitationDurations = s.qualityLimitationDurations;
        }
      } else {
        e.trackId = s.trackIdentifier;
        e.bytesReceived = num(s.bytesReceived); e.packetsReceived = num(s.packetsReceived);
        e.packetsLost = num(s.packetsLost); e.jitter = ms(s.jitter);
        if (kind === "audio") {
          e.audioLevel = num(s.audioLevel) !== undefined ? Math.round(s.audioLevel * AUDIO_LEVEL_SCALE) : undefined;
          e.concealedSamples = num(s.concealedSamples);
          e.totalSamplesReceived = num(s.totalSamplesReceived);
        } else {
          e.dimensions = dims(s.frameWidth, s.frameHeight);
          e.frameRate = num(s.framesPerSecond);
          e.freezeCount = num(s.freezeCount);
          e.totalFreezesDuration = num(s.totalFreezesDuration);
        }
      }
      e.trackSid = e.trackId ? trackSidOf(e.trackId) : undefined;
      payload[LISTS[s.type === "outbound-rtp" ? "outbound" : "inbound"][kind]].push(e);
    }
    payload.candidatePair = candidatePair(report, ix);
    return payload;
  }

  // The selected candidate pair's id: from the transport stat, else (Firefox has none) the selected
  // or busiest nominated pair, for which the whole report is walked.
  function selectedPairId(report, ix, walk) {
    var transport = ix.transport && report.get(ix.transport);
    if (transport) return transport.selectedCandidatePairId;
    if (!walk) return undefined;
    var found, best = -1;
    report.forEach(function (s) {
      if (s.type !== "candidate-pair" || !(s.selected || (s.nominated && s.state === "succeeded"))) return;
      var bytes = s.selected ? Infinity : (s.bytesSent || 0) + (s.bytesReceived || 0);
      if (bytes > best) { found = s.id; best = bytes; }
    });
    return found;
  }

  function candidatePair(report, ix, pairId) {
    var pair = report.get(pairId || selectedPairId(report, ix, true));
    if (!pair) return undefined;
    var local = report.get(pair.localCandidateId) || {}, remote = report.get(pair.remoteCandidateId) || {};
    return { id: pair.id, availableOutgoingBitrate: num(pair.availableOutgoingBitrate),
             availableIncomingBitrate: num(pair.availableIncomingBitrate),
             currentRoundTripTime: num(pair.currentRoundTripTime),
             relayed: local.candidateType === "relay" || remote.candidateType === "relay",
             localCandidateType: local.candidateType, remoteCandidateType: remote.candidateType,
             protocol: local.protocol, relayProtocol: local.relayProtocol, networkType: local.networkType };
  }

  // -- the connection to the service ----------------------------------------------------------
  function Transport(session) {
    this.s = session;
    this.queue = [];
    // Sent, and not yet acknowledged as committed: the server may die holding them, so they are sent
    // again after a reconnect (the store keeps one copy of what arrives twice).
    this.unacked = [];
    this.seq = 0; // numbers the messages of the whole session, across reconnects: acks are cumulative
    this.ws = null;
    this.sessionToken = null; // the gateway's session string, once connected
    this.attempt = 0;
    this.timer = null;
    this.closed = false;
    this.hold = false; // keep messages for the beacon
  }

  Transport.prototype.token = function () {
    var t = this.s.options.token;
    return Promise.resolve(typeof t === "function" ? t() : t);
  };

  Transport.prototype.connectMessage = function (token) {
    return { type: "connect", token: token, version: 1, publisher: this.s.publisher() };
  };

  Transport.prototype.open = function () {
    var self = this;
    if (this.closed || this.ws) return;
    Promise.all([this.token(), this.s.uaData, this.s.livekitSid]).then(safe(function (values) {
      if (self.closed) return;
      self.s.lastToken = values[0];
      self.s.uaDataValue = values[1];
      self.s.livekitSidValue = values[2];
      var ws = self.ws = new WebSocket(eventsUrl(self.s.options.url).replace(/^http/, "ws"));
      ws.onopen = safe(function () { ws.send(JSON.stringify(self.connectMessage(values[0]))); });
      ws.onmessage = safe(function (m) {
        var answer = JSON.parse(m.data);
        if (answer.type === "connected") {
          self.sessionToken = answer.session;
          self.s.learn(answer);
          self.attempt = 0;
          self.flush();
        } else if (answer.type === "ack") {
          self.acked(answer.seq);
        } else if (answer.type === "error") {
          self.s.lastError = answer.message;
          warn("the service refused the connection: " + answer.message);
        }
      });
      ws.onclose = safe(function () {
        self.ws = null;
        self.sessionToken = null;
        self.queue = self.unacked.splice(0).concat(self.queue); // sent again first, in order
        if (self.onclosed) self.onclosed();
        self.retry();
      });
      ws.onerror = function () { /* onclose follows */ };
    }), function (e) { warn("no access token", e); self.retry(); });
  };

  Transport.prototype.retry = function () {
    var self = this;
    if (this.closed || this.timer) return;
    var base = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)];
    this.timer = setTimeout(function () { self.timer = null; self.open(); }, base * (0.75 + Math.random() / 2));
  };

  Transport.prototype.publish = function (group, name, payload) {
    this.queue.push({ type: "event", version: 1, group: group, name: name, timestamp: Date.now(), payload: payload,
                      seq: ++this.seq });
    var over = this.queue.length + this.unacked.length - MAX_QUEUE; // the oldest go first
    if (over > 0) over -= this.unacked.splice(0, over).length;
    if (over > 0) this.queue.splice(0, over);
    this.flush();
  };

  // The server has committed (or refused for good) every message numbered up to `seq`.
  Transport.prototype.acked = function (seq) {
    var u = this.unacked, n = 0;
    while (n < u.length && u[n].seq <= seq) n++;
    u.splice(0, n);
    if (!u.length && this.onsettled) this.onsettled();
  };

  Transport.prototype.flush = function () {
    var ws = this.ws;
    if (!ws || ws.readyState !== 1 || !this.sessionToken || this.hold) return;
    while (this.queue.length) {
      var m = this.queue[0];
      m.session = this.sessionToken;
      ws.send(JSON.stringify(m));
      this.unacked.push(this.queue.shift());
    }
  };

  // Ends the session: what is queued goes over the WebSocket if it is up, else by HTTP.
  Transport.prototype.close = function () {
    var self = this;
    this.closed = true;
    clearTimeout(this.timer);
    var ws = this.ws;
    if (ws && ws.readyState === 1 && this.sessionToken) {
      this.flush();
      // Closed once the last messages are committed, so that a server crash meanwhile cannot lose them.
      return new Promise(function (resolve) {
        self.onclosed = resolve;
        self.onsettled = function () { ws.close(1000); };
        if (!self.unacked.length) ws.close(1000);
        setTimeout(function () { ws.close(1000); resolve(); }, 3000);
      });
    }
    if (ws) { ws.onclose = null; ws.close(); }
    return this.token().then(function (token) {
      return fetch(eventsUrl(self.s.options.url), { method: "POST", keepalive: true,
        headers: { "Content-Type": "text/plain" }, body: self.beaconBody(token) });
    }).then(function () {}, function (e) { warn("could not send the last events", e); });
  };

  // The unacknowledged and queued messages as one POST body (answered once committed); without a
  // session, a connect message opens one.
  Transport.prototype.beaconBody = function (token) {
    var messages = this.unacked.splice(0).concat(this.queue.splice(0)), session = this.sessionToken;
    if (!session && typeof token === "string") messages.unshift(this.connectMessage(token));
    messages = messages.map(function (m) { if (session && m.type === "event") m.session = session; return m; });
    var body = JSON.stringify({ token: typeof token === "string" ? token : "", messages: messages });
    while (body.length > BEACON_BYTES && messages.length > 2) { // the oldest reports go first
      messages.splice(session ? 0 : 1, 1);
      body = JSON.stringify({ token: typeof token === "string" ? token : "", messages: messages });
    }
    return body;
  };

  // Page unload: no promise will be awaited, so sendBeacon (the token must be a string by now).
  Transport.prototype.beacon = function () {
    this.closed = true;
    clearTimeout(this.timer);
    var token = typeof this.s.options.token === "string" ? this.s.options.token : this.s.lastToken;
    var body = this.beaconBody(token);
    if (this.ws) { this.ws.onclose = null; this.ws.close(); }
    if (!navigator.sendBeacon(eventsUrl(this.s.options.url), new Blob([body], { type: "text/plain" }))) {
      warn("sendBeacon refused the last events");
    }
  };

  // An option given as a value, a function, or a function's promise: its string value, or null (a
  // function that throws or a promise that fails is warned about, never thrown).
  function settle(option, name) {
    var value;
    try { value = typeof option === "function" ? option() : option; } catch (e) { warn(name + " failed", e); }
    return Promise.resolve(value).then(function (v) { return typeof v === "string" && v ? v : null; },
                                       function (e) { warn(name + " failed", e); return null; });
  }

  // -- a session: one participant ----------------------------------------------------------------
  function Session(options) {
    var self = this;
    this.options = options;
    this.version = VERSION;
    this.roomSid = options.roomSid || null;
    this.participantSid = options.participantSid || null;
    this.lastError = null;
    this.cost = { samples: 0, totalMs: 0, maxMs: 0, recent: [] };
    this.trackSids = {};
    var given = options.trackSids || {};
    for (var k in given) if (Object.prototype.hasOwnProperty.call(given, k)) this.trackSids[k] = given[k];
    this.pcs = [];
    this.tick = 0;
    this.uaData = highEntropyValues();
    this.livekitSid = settle(options.livekitParticipantSid, "livekitParticipantSid");
    this.transport = new Transport(this);
    this.auto = !options.peerConnections;
    var transport = this.transport;
    Object.defineProperty(this, "connected", { get: function () { return !!transport.sessionToken; } });
    Object.defineProperty(this, "queued", { get: function () { return transport.queue.length; } });
    Object.defineProperty(this, "unacknowledged", { get: function () { return transport.unacked.length; } });
    (options.peerConnections || []).forEach(function (pc) { self.addPeerConnection(pc); });
    this.onPageHide = safe(function (ev) { if (!ev.persisted) self.leave(true); });
    g.addEventListener("pagehide", this.onPageHide);
    this.timer = setInterval(safe(function () { self.sample(); }), SAMPLE_MS);
    sessions.push(this);
    earlyEvents.splice(0).forEach(function (e) { self.transport.publish(e[0], e[1], e[2]); });
    this.transport.open();
  }

  Session.prototype.publisher = function () {
    var o = this.options, p = { name: "video-insights-collector", sdkVersion: VERSION, userAgent: navigator.userAgent };
    if (this.roomSid) p.roomSid = this.roomSid; else p.roomName = o.roomName;
    if (this.participantSid) p.participantSid = this.participantSid;
    else if (this.livekitSidValue) p.livekitParticipantSid = this.livekitSidValue;
    if (o.identity) p.identity = o.identity;
    if (o.roomType) p.roomType = o.roomType;
    if (this.uaDataValue) p.userAgentData = this.uaDataValue;
    return p;
  };

  // The service's SIDs for this participant: a reconnect comes back as the same participant.
  Session.prototype.learn = function (answer) {
    if (answer.roomSid) this.roomSid = answer.roomSid;
    if (answer.participantSid) this.participantSid = answer.participantSid;
  };

  Session.prototype.trackSidOf = function (trackId) {
    return this.trackSids[trackId] || (this.trackSids[trackId] = derivedSid("MT", trackId));
  };

  Session.prototype.setTrackSid = safe(function (trackId, sid) { this.trackSids[trackId] = sid; });

  Session.prototype.addPeerConnection = safe(function (pc) {
    var self = this;
    if (this.ended || !pc || typeof pc.getStats !== "function") return;
    for (var i = 0; i < this.pcs.length; i++) if (this.pcs[i].pc === pc) return;
    var w = { pc: pc, id: "pc-" + randomId(), last: null, index: null, limits: {}, pair: null, wasConnected: false,
              reconnecting: false };
    this.pcs.push(w);
    pc.addEventListener("iceconnectionstatechange", safe(function () { self.iceState(w); }));
    pc.addEventListener("connectionstatechange", safe(function () {
      self.transport.publish("pc-connection-state", pc.connectionState, { peerConnectionId: w.id });
    }));
  });

  Session.prototype.iceState = function (w) {
    var state = w.pc.iceConnectionState;
    this.transport.publish("ice-connection-state", state, { peerConnectionId: w.id });
    if (state === "connected" || state === "completed") {
      if (w.reconnecting) this.transport.publish("room", "reconnected", { peerConnectionId: w.id });
      w.wasConnected = true;
      w.reconnecting = false;
    } else if ((state === "disconnected" || state === "checking") && w.wasConnected && !w.reconnecting) {
      w.reconnecting = true; // media stopped flowing, or an ICE restart began
      this.transport.publish("room", "reconnecting", { peerConnectionId: w.id });
    }
  };

  // A sample reads only the few stats its checks need; a report every tenth second reads the rest.
  Session.prototype.sample = function () {
    var self = this, tick = ++this.tick, publish = tick % REPORT_EVERY === 0;
    var t0 = performance.now();
    this.pcs.slice().forEach(function (w) {
      if (w.pc.signalingState === "closed") { self.drop(w); return; }
      w.pc.getStats().then(safe(function (report) {
        var t1 = performance.now();
        w.last = report;
        var ix = index(report, w, tick);
        self.watch(w, report, ix, publish);
        if (publish) self.report(w);
        self.spent(performance.now() - t1);
      }), function () { /* closed meanwhile: the next sample drops it */ });
    });
    this.spent(performance.now() - t0, true);
  };

  // Main-thread time per sample (all pcs), summed and the latest 120 kept: session.cost.
  Session.prototype.spent = function (elapsed, newSample) {
    var c = this.cost, recent = c.recent;
    if (newSample) { c.samples++; recent.push(0); if (recent.length > 120) recent.shift(); }
    recent[recent.length - 1] += elapsed;
    c.totalMs += elapsed;
    if (recent[recent.length - 1] > c.maxMs) c.maxMs = recent[recent.length - 1];
  };

  Session.prototype.report = function (w) {
    if (!w.last) return;
    var self = this, report = w.last;
    w.last = null; // published: a closing pc does not send the same counters twice
    this.transport.publish("quality", "stats-report", buildReport(report, index(report, w, this.tick), w.id,
      function (id) { return self.trackSidOf(id); }));
  };

  // Per-second checks: quality-limitation changes and a new selected candidate pair.
  Session.prototype.watch = function (w, report, ix, full) {
    var self = this;
    ix.outbound.forEach(function (id) {
      var s = report.get(id);
      if (!s || !s.qualityLimitationReason) return;
      var before = w.limits[s.ssrc];
      w.limits[s.ssrc] = s.qualityLimitationReason;
      if (before === s.qualityLimitationReason || (before === undefined && s.qualityLimitationReason === "none")) return;
      var src = s.mediaSourceId && report.get(s.mediaSourceId);
      self.transport.publish("quality", "quality-limitation-state-changed", {
        peerConnectionId: w.id, ssrc: String(s.ssrc), rid: s.rid, qualityLimitationReason: s.qualityLimitationReason,
        previous: before || "none", trackSid: src && src.trackIdentifier ? self.trackSidOf(src.trackIdentifier) : undefined });
    });
    var pairId = selectedPairId(report, ix, full);
    if (pairId && pairId !== w.pair) {
      w.pair = pairId;
      var info = candidatePair(report, ix, pairId);
      if (!info) return;
      info.peerConnectionId = w.id;
      this.transport.publish("quality", "active-ice-candidate-pair", info);
    }
  };

  // A closed peer connection: its last sample (at most a second old) is published, then it is forgotten.
  Session.prototype.drop = function (w) {
    this.report(w);
    this.pcs.splice(this.pcs.indexOf(w), 1);
  };

  Session.prototype.leave = function (unloading) {
    if (this.ended) return Promise.resolve();
    var self = this;
    this.ended = true;
    clearInterval(this.timer);
    g.removeEventListener("pagehide", this.onPageHide);
    sessions.splice(sessions.indexOf(this), 1);
    // Unloading, a WebSocket may be torn down before its buffer leaves: the beacon carries the rest.
    this.transport.hold = unloading;
    this.pcs.forEach(function (w) { self.report(w); });
    this.transport.publish("room", "disconnected", {});
    if (unloading) { this.transport.beacon(); return Promise.resolve(); }
    return this.transport.close();
  };

  Session.prototype.close = function () {
    try { return this.leave(false).catch(function () {}); } catch (e) { warn("close failed", e); return Promise.resolve(); }
  };

  function highEntropyValues() {
    var uad = navigator.userAgentData;
    if (!uad || typeof uad.getHighEntropyValues !== "function") return Promise.resolve(null);
    var timeout = new Promise(function (resolve) { setTimeout(resolve, 1000, null); });
    return Promise.race([uad.getHighEntropyValues(UA_HINTS), timeout]).then(null, function () { return null; });
  }

  // -- observing the page: new peer connections and getUserMedia outcomes -----------------------
  function announce(group, name, payload) {
    if (!sessions.length) { if (earlyEvents.length < 20) earlyEvents.push([group, name, payload]); return; }
    sessions.forEach(function (s) { s.transport.publish(group, name, payload); });
  }

  function wrapPeerConnection() {
    var Native = g.RTCPeerConnection;
    if (!Native || Native.videoInsights) return;
    var Wrapped = function RTCPeerConnection(config, constraints) {
      var pc = arguments.length > 1 ? new Native(config, constraints) : new Native(config);
      sessions.forEach(function (s) { if (s.auto) s.addPeerConnection(pc); });
      return pc;
    };
    Wrapped.prototype = Native.prototype; // instanceof and feature checks see the real class
    Object.getOwnPropertyNames(Native).forEach(function (k) {
      if (!(k in Wrapped)) try { Wrapped[k] = Native[k]; } catch (e) { /* read-only */ }
    });
    Wrapped.videoInsights = true;
    g.RTCPeerConnection = Wrapped;
  }

  function wrapGetUserMedia() {
    var md = g.navigator && navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== "function" || md.getUserMedia.videoInsights) return;
    var original = md.getUserMedia;
    var wrapped = function (constraints) {
      var pending = original.apply(this, arguments);
      var asked = { audio: !!(constraints && constraints.audio), video: !!(constraints && constraints.video) };
      pending.then(safe(function (stream) {
        announce("get-user-media", "succeeded", { audio: asked.audio, video: asked.video,
          audioTracks: stream.getAudioTracks().length, videoTracks: stream.getVideoTracks().length });
      }), safe(function (err) {
        var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
        announce("get-user-media", denied ? "denied" : "failed", { audio: asked.audio, video: asked.video,
          name: err && err.name, message: err && String(err.message).slice(0, 500) });
      }));
      return pending;
    };
    wrapped.videoInsights = true;
    md.getUserMedia = wrapped;
  }

  function watchNetwork() {
    var c = g.navigator && navigator.connection;
    if (!c || typeof c.addEventListener !== "function") return;
    c.addEventListener("change", safe(function () {
      announce("network", "network-type-changed", { type: c.type, effectiveType: c.effectiveType,
        downlinkMbps: num(c.downlink), rttMs: num(c.rtt) });
    }));
  }

  // -- the API --------------------------------------------------------------------------------------
  function connect(options) {
    try {
      var o = options || {}, problem = !o.url ? "url" : !o.token ? "token" : null;
      if (problem) throw new TypeError("VideoInsights.connect: " + problem + " is required");
      return new Session(o);
    } catch (e) {
      // Telemetry must never break the call: a session that does nothing, saying why.
      warn(e.message || "connect failed", e);
      return { version: VERSION, lastError: String(e.message || e), cost: { samples: 0, totalMs: 0, maxMs: 0, recent: [] },
               addPeerConnection: function () {}, setTrackSid: function () {},
               close: function () { return Promise.resolve(); } };
    }
  }

  try { wrapPeerConnection(); wrapGetUserMedia(); watchNetwork(); } catch (e) { warn("could not observe the page", e); }
  g.VideoInsights = { version: VERSION, connect: connect };
})();
