// twilio-video.js's own insights code, unchanged, as one script for the browser test: the getStats
// standardiser, the stats monitor (collects every second, publishes every 10 s), the telemetry
// singleton with its event groups, and the gateway publisher. `ws` stays out: browsers have WebSocket.
"use strict";

window.TwilioVideoInsights = {
  getStats: require("twilio-video/lib/webrtc/getstats"),
  StatsMonitor: require("twilio-video/lib/insights/statsmonitor"),
  telemetry: require("twilio-video/lib/insights/telemetry"),
  InsightsPublisher: require("twilio-video/lib/util/insightspublisher"),
  SDK_NAME: require("twilio-video/lib/util/constants").SDK_NAME,
  SDK_VERSION: require("twilio-video/lib/util/constants").SDK_VERSION,
};
