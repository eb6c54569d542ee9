// Entry point of the agent server inside every sandbox (and of the local backend's processes).
// Reads its environment once, then either serves HTTP (default) or runs one prompt and exits
// (`run-once`, the ephemeral tier). PLACEHOLDER SKELETON: /health and /bootstrap only; the
// turn endpoint is being written in server.ts / turn.ts.
import http from 'node:http';
import { AGENT_AUTH_HEADER, problemBody, PROBLEM_CONTENT_TYPE } from '@berth/protocol';

const host = process.env.BERTH_AGENT_HOST ?? '0.0.0.0';
const port = Number(process.env.BERTH_AGENT_PORT ?? 8000);
const authToken = process.env.AGENT_AUTH_TOKEN ?? '';
let bootstrapped: { sessionId: string } | null = null;

const server = http.createServer((req, res) => {
  if (authToken && req.headers[AGENT_AUTH_HEADER] !== authToken) {
    res.writeHead(401, { 'content-type': PROBLEM_CONTENT_TYPE }).end(JSON.stringify(problemBody('unauthenticated')));
    return;
  }
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', bootstrapped: bootstrapped !== null, busy: false, sessionId: bootstrapped?.sessionId ?? null }));
    return;
  }
  if (req.method === 'POST' && req.url === '/bootstrap') {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      bootstrapped = JSON.parse(raw) as { sessionId: string };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    return;
  }
  res.writeHead(404, { 'content-type': PROBLEM_CONTENT_TYPE }).end(JSON.stringify(problemBody('not_found')));
});
server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : port }) + '\n');
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
