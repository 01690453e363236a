// The API reference at /docs/api: Swagger UI (vendored, see render.SWAGGER_UI) over /openapi.json.
// A file rather than an inline script, so the page works under the console's Content-Security-Policy.
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", () => {
    window.ui = SwaggerUIBundle({
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout",
    });
  });
})();
