// The API reference at /docs/api: Swagger UI (vendored, see render.SWAGGER_UI) over /openapi.json.
// A file rather than an inline script, so the page works under the console's Content-Security-Policy.
(function () {
  "use strict";
  // Swagger UI has a dark mode of its own (an html.dark-mode class); follow prefers-color-scheme like
  // the console. The page around its box takes the box's own background.
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  function scheme() {
    document.documentElement.classList.toggle("dark-mode", dark.matches);
    document.documentElement.style.background = dark.matches ? "#1c2022" : "";
  }
  scheme();
  dark.addEventListener("change", scheme);
  window.addEventListener("DOMContentLoaded", () => {
    window.ui = SwaggerUIBundle({
      // No deep links: Swagger UI puts them as links inside each operation's toggle button, a control
      // within a control that keyboard and screen-reader users cannot reach (axe: nested-interactive).
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false,
      presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout",
    });
  });
})();
