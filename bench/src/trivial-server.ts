// The ceiling of the gateway benchmark: an Express app that parses the same JSON body and answers
// 202 with a small JSON, nothing else. Same Node, same machine, same load generator.
import express from "express";

const port = Number(process.argv[2] ?? 18080);
const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.use(express.json({ limit: "256kb" }));
app.post("/notifications/send", (_req, res) => {
  res.status(202).json({ success: true, data: { status: "queued" }, error: null, message: "Accepted", meta: {} });
});
const server = app.listen(port, "127.0.0.1", () => process.send?.({ ready: true }));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
