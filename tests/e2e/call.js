// A loopback call in one page: pc1 sends the fake camera and microphone, pc2 receives. No ICE
// candidate is exchanged: each side is given the relay's port for it as its only remote candidate,
// so every packet crosses the test's UDP relay.
"use strict";

function sections(sdp) {
  const parts = sdp.replace(/(\r\n)+$/, "").split(/\r\n(?=m=)/);
  return { head: parts[0], media: parts.slice(1) };
}

function join(head, media) {
  return [head, ...media].join("\r\n") + "\r\n";
}

const RID_EXT = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
const RRID_EXT = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
const MID_EXT = "urn:ietf:params:rtp-hdrext:sdes:mid";

function extId(section, uri) {
  const m = section.match(new RegExp("a=extmap:(\\d+)(?:/\\w+)? " + uri.replace(/[.]/g, "\\.")));
  return m ? m[1] : null;
}

// Chrome does not answer an offer to receive simulcast. The receiver is shown each layer as its own
// m-line instead (mid = rid), its MID header extension read from where the sender writes the RID;
// the answer is folded back into one m-line that accepts the three rids.
function simulcastOfferForReceiver(sdp) {
  const { head, media } = sections(sdp);
  const out = [];
  let bundle = [];
  for (const section of media) {
    const simulcast = section.match(/a=simulcast:send ([^\r\n]+)/);
    const mid = section.match(/a=mid:([^\r\n]+)/)[1];
    if (!simulcast) { out.push(section); bundle.push(mid); continue; }
    const rids = simulcast[1].split(";");
    const ridId = extId(section, RID_EXT), midId = extId(section, MID_EXT), rridId = extId(section, RRID_EXT);
    for (const rid of rids) {
      let layer = section
        .split("\r\n")
        .filter((l) => !/^a=(rid|simulcast):/.test(l))
        .filter((l) => !l.startsWith(`a=extmap:${midId} `) && !(rridId && l.startsWith(`a=extmap:${rridId} `)))
        .map((l) => (l.startsWith(`a=extmap:${ridId} `) ? `a=extmap:${ridId} ${MID_EXT}` : l))
        .map((l) => (l.startsWith("a=mid:") ? `a=mid:${rid}` : l))
        .map((l) => (l.startsWith("a=msid:") ? `${l}-${rid}` : l))
        .join("\r\n");
      out.push(layer);
      bundle.push(rid);
    }
  }
  const newHead = head.replace(/a=group:BUNDLE [^\r\n]+/, "a=group:BUNDLE " + bundle.join(" "));
  return join(newHead, out);
}

function simulcastAnswerForSender(answer, offer) {
  const { head, media } = sections(answer);
  const offered = sections(offer).media;
  const out = [];
  const bundle = [];
  let i = 0;
  for (const section of offered) {
    const simulcast = section.match(/a=simulcast:send ([^\r\n]+)/);
    const mid = section.match(/a=mid:([^\r\n]+)/)[1];
    bundle.push(mid);
    if (!simulcast) { out.push(media[i++]); continue; }
    const rids = simulcast[1].split(";");
    const ridId = extId(section, RID_EXT), midId = extId(section, MID_EXT);
    let first = media[i];
    i += rids.length;
    first = first
      .split("\r\n")
      .map((l) => (l.startsWith(`a=extmap:${ridId} `) ? `a=extmap:${midId} ${MID_EXT}\r\na=extmap:${ridId} ${RID_EXT}` : l))
      .map((l) => (l.startsWith("a=mid:") ? `a=mid:${mid}` : l))
      .join("\r\n");
    first = first + "\r\n" + rids.map((r) => `a=rid:${r} recv`).join("\r\n") +
      `\r\na=simulcast:recv ${rids.join(";")}`;
    out.push(first);
  }
  const newHead = head.replace(/a=group:BUNDLE [^\r\n]+/, "a=group:BUNDLE " + bundle.join(" "));
  return join(newHead, out);
}

function relayCandidate(port) {
  return { candidate: `candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
           sdpMid: "0", sdpMLineIndex: 0 };
}

// Starts the call; resolves once both sides are connected. `relay` = [port for pc1, port for pc2].
// `watch(pc1, stream)`, if given, sees the sender's connection before it negotiates and the media it
// got from getUserMedia (the SDK test reports their events as twilio-video.js would).
window.startCall = async ({ relay, simulcast = false, width = 640, height = 480, watch = null }) => {
  const pc1 = new RTCPeerConnection();
  const pc2 = new RTCPeerConnection();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width, height } });
  if (watch) watch(pc1, stream);
  pc1.addTransceiver(stream.getAudioTracks()[0], { direction: "sendonly" });
  pc1.addTransceiver(stream.getVideoTracks()[0], {
    direction: "sendonly",
    sendEncodings: simulcast
      ? [{ rid: "q", scaleResolutionDownBy: 4 }, { rid: "h", scaleResolutionDownBy: 2 }, { rid: "f" }]
      : undefined,
  });
  const offer = await pc1.createOffer();
  await pc1.setLocalDescription(offer);
  await pc2.setRemoteDescription({ type: "offer", sdp: simulcast ? simulcastOfferForReceiver(offer.sdp) : offer.sdp });
  const answer = await pc2.createAnswer();
  await pc2.setLocalDescription(answer);
  await pc1.setRemoteDescription({ type: "answer", sdp: simulcast ? simulcastAnswerForSender(answer.sdp, offer.sdp) : answer.sdp });
  await pc1.addIceCandidate(relayCandidate(relay[0]));
  await pc2.addIceCandidate(relayCandidate(relay[1]));
  window.call = { pc1, pc2, stream };
  await new Promise((resolve, reject) => {
    const check = () => {
      if (pc1.connectionState === "connected" && pc2.connectionState === "connected") resolve();
      if (pc1.connectionState === "failed" || pc2.connectionState === "failed") reject(new Error("ICE failed"));
    };
    pc1.addEventListener("connectionstatechange", check);
    pc2.addEventListener("connectionstatechange", check);
    check();
  });
};

window.endCall = () => {
  if (!window.call) return;
  window.call.stream.getTracks().forEach((t) => t.stop());
  window.call.pc1.close();
  window.call.pc2.close();
};

// What the page itself measures, to compare with what the service computes from the collector's reports.
window.outboundLayers = async () => {
  const report = await window.call.pc1.getStats();
  const out = [];
  report.forEach((s) => {
    if (s.type === "outbound-rtp") out.push({ kind: s.kind, rid: s.rid || null, ssrc: s.ssrc,
      bytesSent: s.bytesSent, timestamp: s.timestamp, frameWidth: s.frameWidth || null });
  });
  return out;
};

// The page's own per-second view of what pc1 sends (summed over simulcast layers), to check the
// service's numbers against.
window.layerLog = [];
window.logLayers = () => {
  const timer = setInterval(async () => {
    if (!window.call || window.call.pc1.signalingState === "closed") { clearInterval(timer); return; }
    const layers = await window.outboundLayers();
    const video = layers.filter((l) => l.kind === "video");
    window.layerLog.push({ at: Date.now(), videoBytes: video.reduce((n, l) => n + (l.bytesSent || 0), 0),
                           layers: video.map((l) => ({ rid: l.rid, bytesSent: l.bytesSent, frameWidth: l.frameWidth })) });
  }, 1000);
};
