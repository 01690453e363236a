// The collector as an ES module: `import VideoInsights from "https://HOST/static/collector.mjs"`.
import "./collector.js";

const VideoInsights = globalThis.VideoInsights;
export default VideoInsights;
export const connect = (options) => VideoInsights.connect(options);
export const version = VideoInsights.version;
