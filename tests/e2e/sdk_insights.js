// twilio-video.js's insights code (the bundle of tests/sdk) on the loopback call of call.js, wired the
// way the SDK's Room wires it: the StatsMonitor watches the participant's peer connection (pc1, the
// sender) through the SDK getStats as PeerConnectionV2 calls it, its entries stamped with track SIDs by track id as RoomV2.getStats() does, and pc1's state
// changes reported through the SDK's own PeerConnectionEvents. Every frame the publisher sends is kept
// in window.sentFrames (the test records them for the replay test).
"use strict";

const SDK = window.TwilioVideoInsights;
const quietLog = { debug() {}, info() {}, warn: (...a) => console.warn(...a), error: (...a) => console.error(...a) };
window.sentFrames = [];

class RecordingWebSocket extends WebSocket {
  send(data) {
    window.sentFrames.push(String(data));
    super.send(data);
  }
}

function newSid(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Connects a publisher for one participant and makes it the telemetry singleton's; resolves once the
// gateway answered `connected`.
window.startInsights = ({ gateway, token, roomSid, participantSid }) => {
  const publisher = new SDK.InsightsPublisher(token, SDK.SDK_NAME, SDK.SDK_VERSION, "prod", "us1",
    { gateway, WebSocket: RecordingWebSocket, maxReconnectAttempts: 0 });
  SDK.telemetry.configure({ publisher, log: quietLog, connectTimestamp: Date.now() });
  window.publisher = publisher;
  const connected = new Promise((resolve, reject) => {
    publisher.once("connected", resolve);
    publisher.once("disconnected", (error) => reject(error || new Error("the gateway closed the session")));
  });
  publisher.connect(roomSid, participantSid);
  return connected;
};

// What RoomV2 does for the StatsMonitor: one entry per peer connection, every track id given a SID.
const trackSids = new Map();
function stampSids(entries) {
  return entries.map((entry) => {
    if (!trackSids.has(entry.trackId)) trackSids.set(entry.trackId, newSid("MT"));
    return Object.assign({}, entry, { trackSid: trackSids.get(entry.trackId) });
  });
}

window.watchSender = (pc, stream) => {
  const id = crypto.randomUUID();
  const pcEvents = SDK.telemetry.pc;
  SDK.telemetry.getUserMedia.succeeded();
  pc.addEventListener("connectionstatechange", () => pcEvents.connectionState(id, pc.connectionState));
  pc.addEventListener("iceconnectionstatechange", () => pcEvents.iceConnectionState(id, pc.iceConnectionState));
  pc.addEventListener("icegatheringstatechange", () => pcEvents.iceGatheringState(id, pc.iceGatheringState));
  pc.addEventListener("icecandidate", (e) => { if (e.candidate) pcEvents.iceCandidate(id, e.candidate); });
  let transport = null;
  pc.addEventListener("signalingstatechange", () => {
    pcEvents.signalingState(id, pc.signalingState);
    const sender = pc.getSenders().find((s) => s.transport);
    if (transport || !sender) return;
    transport = sender.transport;
    pcEvents.dtlsTransportState(id, transport.state);
    transport.addEventListener("statechange", () => pcEvents.dtlsTransportState(id, transport.state));
    transport.iceTransport.addEventListener("selectedcandidatepairchange", () =>
      pcEvents.selectedCandidatePair(id, transport.iceTransport.getSelectedCandidatePair()));
  });
  const source = {
    getStats: () => SDK.getStats(pc, { log: quietLog }).then((response) => new Map([[id, Object.assign({}, response, {
      localAudioTrackStats: stampSids(response.localAudioTrackStats),
      localVideoTrackStats: stampSids(response.localVideoTrackStats),
      remoteAudioTrackStats: stampSids(response.remoteAudioTrackStats),
      remoteVideoTrackStats: stampSids(response.remoteVideoTrackStats),
    })]])),
  };
  window.statsMonitor = new SDK.StatsMonitor(source, quietLog);
  window.senderStream = stream;
};

// Leaving as the SDK's Room does: room/disconnected, then the publisher closes its socket.
window.stopInsights = async () => {
  if (window.statsMonitor) window.statsMonitor.cleanup();
  SDK.telemetry.room.disconnected();
  await new Promise((resolve) => setTimeout(resolve, 300));
  window.publisher.disconnect();
};

// Every event group the SDK publishes, through its own telemetry API, for a participant whose call
// goes wrong in every way a loopback call cannot: camera denied, ICE and DTLS failing, reconnects, a
// relayed (TURN) active pair, CPU pressure, a remote video track stalled for `stallMs`.
window.publishEveryEvent = async ({ stallMs }) => {
  const t = SDK.telemetry;
  const id = crypto.randomUUID();
  const stalled = newSid("MT");
  const relay = new RTCIceCandidate({ sdpMid: "0", candidate:
    "candidate:842163049 1 udp 41819903 203.0.113.7 61234 typ relay raddr 192.0.2.10 rport 50000 generation 0 network-cost 10" });
  const host = new RTCIceCandidate({ sdpMid: "0", candidate:
    "candidate:1 1 udp 2122260223 198.51.100.20 40000 typ host generation 0" });
  t.application.resumed();
  t.getUserMedia.denied();
  t.getUserMedia.failed(new DOMException("Could not start video source", "NotReadableError"));
  t.getUserMedia.succeeded();
  t.network.typeChanged("wifi");
  t.track.stalled(stalled, 0, 0.5);
  t.pc.signalingState(id, "have-local-offer");
  t.pc.iceGatheringState(id, "gathering");
  t.pc.iceCandidate(id, relay);
  t.pc.iceCandidate(id, host, true);
  t.pc.iceGatheringState(id, "complete");
  t.pc.signalingState(id, "stable");
  t.pc.iceConnectionState(id, "checking");
  t.pc.iceConnectionState(id, "connected");
  t.pc.dtlsTransportState(id, "connected");
  t.pc.connectionState(id, "connected");
  t.pc.selectedCandidatePair(id, { local: relay, remote: host });
  t.quality.iceCandidatePair(SDK.StatsMonitor.prototype._replaceNullsWithDefaults({
    localCandidate: { candidateType: "relay", relayProtocol: "udp", networkType: "wifi", protocol: "udp",
                      ip: "203.0.113.7", port: 61234, priority: 41819903 },
    remoteCandidate: { candidateType: "host", protocol: "udp", ip: "198.51.100.20", port: 40000 },
    nominated: true, state: "succeeded", currentRoundTripTime: 0.052, availableOutgoingBitrate: 1500000,
  }, id));
  t.quality.limitationChanged(newSid("MT"), "cpu");
  t.system.cpuPressureChanged("serious");
  t.system.cpuPressureChanged("critical");
  t.application.backgrounded();
  for (let i = 0; i < 3; i++) {  // apart: events alike in time and content are one event sent twice
    t.room.reconnecting(new Error("signaling connection lost"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.room.reconnected();
  }
  await new Promise((resolve) => setTimeout(resolve, stallMs));
  t.track.resumed(stalled, 24, 5);
  t.system.cpuPressureChanged("nominal");
  t.pc.iceConnectionState(id, "disconnected");
  t.pc.iceConnectionState(id, "failed");
  t.pc.dtlsTransportState(id, "failed");
  t.pc.connectionState(id, "failed");
  t.application.terminated();
  return stalled;
};
