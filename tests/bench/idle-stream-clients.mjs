// Child process of auth.bench.test.ts and idle-tails.bench.test.ts: holds N idle SSE streams open
// against the gateway, so the test process's RSS holds only the gateway's side of them (client
// sockets live here).
// argv: port path token lastEventId n [sessions]. `{i}` in path becomes the stream's index modulo
// `sessions` (many sessions, one path template); lastEventId '-' sends none. Prints JSON lines on stdout:
//   {"event":"opened","opened":k,"failed":f}  once every stream answered (200 event-stream) or failed
//   {"event":"report","open":k,"endedEarly":e} after a "report" line on stdin
// A "close" line on stdin (or stdin ending) destroys every socket and exits.
// Raw net sockets, no HTTP client: the smallest per-stream client cost, and no pooling limits.

import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [port, path, token, lastEventId, n, sessionsArg] = process.argv.slice(2);
const total = Number(n);
const sessions = Number(sessionsArg || total);
/** Connections being opened at once: bounded so the listen backlog never overflows. */
const BATCH = 200;
const sockets = new Set();
let opened = 0;
let failed = 0;
let endedEarly = 0;

function open(index) {
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let head = '';
    let answered = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      if (answered) return; // heartbeats and frames: read and dropped
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      if (head.startsWith('HTTP/1.1 200') && /content-type: text\/event-stream/i.test(head)) {
        opened++;
        sockets.add(socket);
      } else {
        failed++;
        socket.destroy();
      }
      resolve();
    });
    const gone = () => {
      if (!answered) {
        answered = true;
        failed++;
        resolve();
      } else if (sockets.delete(socket)) endedEarly++;
    };
    socket.on('error', gone);
    socket.on('close', gone);
    const target = path.replaceAll('{i}', String(index % sessions));
    const resume = lastEventId === '-' ? '' : `Last-Event-ID: ${lastEventId}\r\n`;
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n${resume}Accept: text/event-stream\r\n\r\n`);
  });
}

for (let started = 0; started < total; started += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, total - started) }, (_, k) => open(started + k)));
}
process.stdout.write(`${JSON.stringify({ event: 'opened', opened, failed })}\n`);

function closeAll() {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'report') process.stdout.write(`${JSON.stringify({ event: 'report', open: sockets.size, endedEarly })}\n`);
  if (line === 'close') closeAll();
});
lines.on('close', closeAll);
