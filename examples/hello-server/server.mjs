// A tiny HTTP server for the /helloServer image example. PORT and HOST come from the environment.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "0.0.0.0";
createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`hello from makes (${req.method} ${req.url})\n`);
}).listen(port, host, () => console.log(`listening on http://${host}:${port}`));
