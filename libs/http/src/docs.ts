import path from "node:path";
import express, { type Router } from "express";
import { sendError } from "./envelope";

/** The folder of swagger-ui-dist's static files (resolved at run time: it stays in node_modules). */
function swaggerUiFolder(): string {
  return path.dirname(require.resolve("swagger-ui-dist/package.json"));
}

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>${title}</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css" />
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/herald-init.js"></script>
</body>
</html>
`;

const init = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

/**
 * GET /docs: an interactive reference of /openapi.json (Swagger UI), served from the installed
 * swagger-ui-dist package, so it works offline (no CDN). "Authorize" takes the API key.
 */
export function docsRoutes(title: string): Router {
  const router = express.Router();
  const html = page(title);
  router.get(["/docs", "/docs/"], (_req, res) => {
    res.type("html").send(html);
  });
  router.get("/docs/herald-init.js", (_req, res) => {
    res.type("application/javascript").send(init);
  });
  router.use("/docs", express.static(swaggerUiFolder(), { index: false, maxAge: "1h" }));
  router.use("/docs", (req, res) => sendError(res, 404, "not_found", `No file ${req.originalUrl}`));
  return router;
}
