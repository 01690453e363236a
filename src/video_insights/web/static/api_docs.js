// The API reference at /docs/api: Swagger UI (vendored, see render.SWAGGER_UI) over /openapi.json.
// A file rather than an inline script, so the page works under the console's Content-Security-Policy.
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", () => {
    window.ui = SwaggerUIBundle({
      // No deep links: Swagger UI puts them as links inside each operation's toggle button, a control
      // within a control that keyboard and screen-reader users cannot reach (axe: nested-interactive).
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false,
      presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout",
    });
  });
})();
