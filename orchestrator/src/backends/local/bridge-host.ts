// The host half of an isolated local sandbox's network (the inside half is sandbox-bridge.ts):
// - per egress target, a unix socket in the sandbox's bridge dir whose connections go on to the
//   egress gateway's TCP port, dialled FROM the sandbox's own loopback source address;
// - a TCP listener on that same source address (port picked by the kernel) whose connections go
//   on to the agent server's unix socket, so the gateway keeps speaking http://127.x.y.z:PORT.
// Security control: the source address is the sandbox's identity at the egress gateway. The
// binding URL names it, so proxy-auth's sourceMatchesBinding accepts a session credential only
// on connections from that sandbox's forwarder. Nothing here looks inside the bytes.

import { chmod } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface EgressTarget {
  host: string;
  port: number;
}

export interface HostBridgeOptions {
  /** Bridge dir bind-mounted into the sandbox. */
  dir: string;
  /** The sandbox's own loopback address (127.a.b.c), see allocateSourceAddress. */
  sourceAddress: string;
  egress: readonly EgressTarget[];
}

export interface HostBridge {
  /** http://<sourceAddress>:<port>: where the gateway reaches the agent server. */
  url: string;
  /** Closes the listeners and cuts every bridged connection. Idempotent. */
  close(): void;
}

export async function startHostBridge(options: HostBridgeOptions): Promise<HostBridge> {
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const track = (socket: net.Socket): net.Socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    return socket;
  };
  const splice = (a: net.Socket, b: net.Socket): void => {
    track(a);
    track(b);
    a.once('close', () => b.destroy());
    b.once('close', () => a.destroy());
    a.pipe(b);
    b.pipe(a);
  };
  const close = (): void => {
    for (const server of servers) server.close();
    for (const socket of sockets) socket.destroy();
  };
  try {
    for (const [index, target] of options.egress.entries()) {
      const socketPath = path.join(options.dir, `egress-${index}.sock`);
      const server = net.createServer((inside) =>
        splice(inside, net.connect({ host: target.host, port: target.port, localAddress: options.sourceAddress })),
      );
      servers.push(server);
      await listen(server, socketPath);
      // The sandbox runs under its own uid: it must be able to connect. The dir around it is the
      // sandbox's alone (mode 0700), so no other uid reaches this socket.
      await chmod(socketPath, 0o666);
    }
    const agentSocket = path.join(options.dir, 'agent.sock');
    const ingress = net.createServer((outside) => splice(outside, net.connect(agentSocket)));
    servers.push(ingress);
    await listen(ingress, { host: options.sourceAddress, port: 0 });
    const { port } = ingress.address() as net.AddressInfo;
    return { url: `http://${options.sourceAddress}:${port}`, close };
  } catch (error) {
    close();
    throw error;
  }
}

function listen(server: net.Server, at: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof at === 'string') server.listen(at, done);
    else server.listen(at.port, at.host, done);
  });
}

/**
 * A loopback address for one sandbox, from 127.64.0.0/10 (the whole 127/8 is local on Linux, and
 * nothing else on a host listens there by convention). Random, so two gateways on one host
 * rarely collide; `taken` guards this gateway's own live sandboxes.
 */
export function allocateSourceAddress(taken: ReadonlySet<string>, random: () => number = Math.random): string {
  for (;;) {
    const address = `127.${64 + Math.floor(random() * 64)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
    if (!taken.has(address)) return address;
  }
}
