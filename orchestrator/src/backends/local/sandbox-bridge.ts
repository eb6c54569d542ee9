// The inside half of an isolated local sandbox's network: preloaded into the agent server
// (`node --import <this file> main.js`) inside a network namespace that has only a loopback
// interface. It listens on the egress gateway's loopback address and port(s) and carries each
// connection out over a unix socket in the bind-mounted bridge dir, and it carries each connection
// the gateway makes to `agent.sock` in to the agent server's loopback port. The host half is
// bridge-host.ts. Node builtins only: it is bind-mounted alone, outside any package.
//
// Security control: these two doors are the namespace's only ways out and in; a program that
// ignores the proxy variables finds no route to anything else.

import net from 'node:net';
import path from 'node:path';

const dir = process.env.BERTH_BRIDGE_DIR;
const egress = (process.env.BERTH_BRIDGE_EGRESS ?? '').split(',').filter(Boolean);
const agentPort = Number(process.env.BERTH_BRIDGE_AGENT_PORT);
// The agent server and the CLI it spawns need none of these.
delete process.env.BERTH_BRIDGE_DIR;
delete process.env.BERTH_BRIDGE_EGRESS;
delete process.env.BERTH_BRIDGE_AGENT_PORT;

function splice(a: net.Socket, b: net.Socket): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

function fail(message: string): never {
  process.stderr.write(`berth-bridge: ${message}\n`);
  process.exit(70);
}

if (dir) {
  egress.forEach((target, index) => {
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon);
    const port = Number(target.slice(colon + 1));
    const socketPath = path.join(dir, `egress-${index}.sock`);
    const server = net.createServer((inside) => splice(inside, net.connect(socketPath)));
    server.on('error', (error) => fail(`egress listener ${target}: ${error.message}`));
    server.listen(port, host);
    server.unref();
  });
  if (Number.isInteger(agentPort) && agentPort > 0) {
    const server = net.createServer((outside) => splice(outside, net.connect(agentPort, '127.0.0.1')));
    server.on('error', (error) => fail(`agent listener: ${error.message}`));
    server.listen(path.join(dir, 'agent.sock'));
    server.unref();
  }
}
