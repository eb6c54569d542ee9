// The egress gateway's forward proxy over real loopback sockets: CONNECT to a self-signed TLS
// server, absolute-form plain HTTP, 407 challenges, allowlist refusals of every special address
// spelling, DNS answers that change between check and connect, Host/URI mismatch, no redirects
// followed, bounded headers, and the metrics these decisions leave.
//
// Why these tests reach 127.0.0.1 at all: the resolver is injected and maps made-up public-looking
// names (*.test.example) to 127.0.0.1, and alice's allowlist NAMES 127.0.0.1 on the servers' ports
// explicitly. That is the rule under test: a special-purpose address (loopback here) is reachable
// only when the allowlist names that address; the name alone would not do (see the private-answer
// case, which is refused before any connection is made).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryStore, type Store } from '@berth/gateway';
import { createSessionCredentials } from '@berth/gateway/credentials';
import { compileAllowlist } from '@berth/gateway/policy';
import { createEgressServer, type EgressServer } from '@berth/gateway/egress';
import type { Resolver, TenantEgressPolicy } from '@berth/gateway/egress';
import { TLS_SERVER_BODY, hasOpenssl, startTlsServer, type TlsServer } from '../fixtures/tls-server.js';
import { waitFor } from '../fixtures/wait-for.js';

const keys = [{ kid: 'k1', secret: new Uint8Array(32).fill(3) }] as const;
const credentials = createSessionCredentials({ keys });
const basic = (token: string) => `Basic ${Buffer.from(`berth:${token}`).toString('base64')}`;

interface RawAnswer {
  status: number;
  head: string;
  body: string;
  socket: Socket;
}

/** Writes a raw request on a fresh socket and reads the answer head (and body unless 200 CONNECT). */
function raw(port: number, requestText: string, tunnel: boolean): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let head: string | undefined;
    socket.on('error', reject);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (head === undefined) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        const status = Number(head.split(' ')[1]);
        if (tunnel && status === 200) {
          socket.off('data', onData);
          socket.pause();
          return resolve({ status, head, body: '', socket });
        }
      }
    };
    socket.on('data', onData);
    const finish = () => {
      if (head === undefined) return reject(new Error('connection closed before an answer'));
      resolve({ status: Number(head.split(' ')[1]), head, body: buffer.toString('utf8'), socket });
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.write(requestText);
  });
}

function connectRequest(target: string, auth?: string, extra = ''): string {
  return `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}${extra}\r\n`;
}

/** Speaks TLS through an established tunnel and returns the HTTPS response body. */
function httpsThroughTunnel(socket: Socket, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket, servername, ca }, () => {
      tls.write(`GET /through HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    tls.on('data', (chunk: Buffer) => (text += chunk.toString()));
    tls.on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
    tls.on('error', reject);
  });
}

interface PlainRequest { path: string; headers: IncomingHttpHeaders }

describe.skipIf(!hasOpenssl())('egress forward proxy (real sockets; skipped only when the openssl CLI is missing, which the TLS fixture needs)', () => {
  let tlsServer: TlsServer;
  let plain: Server;
  let plainPort: number;
  const plainRequests: PlainRequest[] = [];
  let egress: EgressServer;
  let egressPort: number;
  const store = createMemoryStore();
  const registry = new Registry();
  const resolverCalls: string[] = [];
  let aliceToken: string;

  beforeAll(async () => {
    tlsServer = await startTlsServer(['tls.test.example', 'rebind.test.example']);
    plain = createServer((req, res) => {
      plainRequests.push({ path: req.url ?? '', headers: req.headers });
      req.resume();
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'x-drop-me', 'x-drop-me': 'hop' });
      res.end('plain ok\n');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainPort = (plain.address() as AddressInfo).port;

    let rebindCount = 0;
    const resolver: Resolver = async (name) => {
      resolverCalls.push(name);
      const answers: Record<string, string[]> = {
        'tls.test.example': ['127.0.0.1'],
        'plain.test.example': ['127.0.0.1'],
        'private.test.example': ['10.0.0.1'],
        'mixed.test.example': ['93.184.216.34', '127.0.0.1'],
      };
      if (name === 'rebind.test.example') return [{ address: rebindCount++ === 0 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
      return (answers[name] ?? []).map((address) => ({ address, family: 4 as const }));
    };
    const policies: Record<string, TenantEgressPolicy> = {
      alice: {
        allowlist: compileAllowlist([
          `tls.test.example:${tlsServer.port}`,
          `rebind.test.example:${tlsServer.port}`,
          `127.0.0.1:${tlsServer.port}`, // names the loopback address explicitly: see the header
          `plain.test.example:${plainPort}`,
          `127.0.0.1:${plainPort}`,
          'private.test.example:*',
          'mixed.test.example:*',
        ]),
      },
      bob: { allowlist: compileAllowlist(['*.test.example:*', 'localhost:*']) },
    };
    egress = createEgressServer({
      credentials,
      store,
      tenants: (name) => policies[name],
      upstreamUrl: 'http://127.0.0.1:9', // unused here
      realKeyFor: () => 'sk-real',
      resolver,
      registry,
      logger: pino({ level: 'silent' }),
      limits: { maxHeaderBytes: 8192 },
    });
    egressPort = (await egress.listen(0, '127.0.0.1')).port;

    for (const [session, tenant, sandbox] of [['s-alice', 'alice', 'sbx-a'], ['s-bob', 'bob', 'sbx-b']] as const) {
      await store.sessions.createSession({ id: session, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 });
      const lock = (await store.bindings.acquireLock(session, 10_000))!;
      await store.bindings.setSandbox(session, { sandboxId: sandbox, url: 'http://127.0.0.1:1', authToken: 't', profile: 'default', claimedAt: 0 }, lock);
    }
    aliceToken = (await credentials.mint({ tenant: 'alice', sessionId: 's-alice', sandboxId: 'sbx-a' })).token;
  });

  afterAll(async () => {
    await egress?.close();
    await tlsServer?.close();
    await new Promise<void>((resolve) => (plain ? plain.close(() => resolve()) : resolve()));
  });

  test('CONNECT to an allowlisted name reaches the TLS server through an end-to-end TLS tunnel', async () => {
    const answer = await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, basic(aliceToken)), true);
    expect(answer.status).toBe(200);
    const body = await httpsThroughTunnel(answer.socket, 'tls.test.example', tlsServer.ca);
    expect(body).toBe(TLS_SERVER_BODY);
    expect(tlsServer.requests.at(-1)).toMatchObject({ path: '/through' });
  });

  test('Bearer in Proxy-Authorization works as well as Basic', async () => {
    const answer = await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, `Bearer ${aliceToken}`), true);
    expect(answer.status).toBe(200);
    answer.socket.destroy();
  });

  test('407 with Proxy-Authenticate without a credential, and with garbage', async () => {
    for (const auth of [undefined, 'Basic ' + Buffer.from('berth:nope').toString('base64')]) {
      const answer = await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, auth), true);
      expect(answer.status).toBe(407);
      expect(answer.head.toLowerCase()).toContain('proxy-authenticate: basic realm="berth-egress"');
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'proxy_auth_required', status: 407 });
    }
  });

  test('a credential of another tenant for this session, and one after release, get 407', async () => {
    const foreign = (await credentials.mint({ tenant: 'bob', sessionId: 's-alice', sandboxId: 'sbx-a' })).token;
    expect((await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, basic(foreign)), true)).status).toBe(407);

    await store.sessions.createSession({ id: 's-gone', tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 });
    const lock = (await store.bindings.acquireLock('s-gone', 10_000))!;
    await store.bindings.setSandbox('s-gone', { sandboxId: 'sbx-g', url: 'http://127.0.0.1:1', authToken: 't', profile: 'default', claimedAt: 0 }, lock);
    const token = (await credentials.mint({ tenant: 'alice', sessionId: 's-gone', sandboxId: 'sbx-g' })).token;
    expect((await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, basic(token)), true)).status).toBe(200);
    await store.bindings.clearSandbox('s-gone', 'sbx-g'); // release
    expect((await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, basic(token)), true)).status).toBe(407);
  });

  // bob's allowlist is wide open for names (*.test.example:*, localhost:*) but names no address,
  // so each literal below is refused before any connection is attempted.
  test.each([
    '127.0.0.1', '0', '127.1', '0177.0.0.1', '0x7f.0.0.1', '2130706433', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]',
    '[64:ff9b::7f00:1]', '169.254.169.254', '10.0.0.1', '100.64.0.1', '0.0.0.0', '[fe80::1%25eth0]',
  ])('CONNECT %s is refused (403) unless allowlisted', async (host) => {
    const bobToken = (await credentials.mint({ tenant: 'bob', sessionId: 's-bob', sandboxId: 'sbx-b' })).token;
    const answer = await raw(egressPort, connectRequest(`${host}:${tlsServer.port}`, basic(bobToken)), true);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'egress_denied' });
  });

  test('the same loopback address is reachable for alice, whose allowlist names it', async () => {
    const answer = await raw(egressPort, connectRequest(`127.1:${tlsServer.port}`, basic(aliceToken)), true);
    expect(answer.status).toBe(200);
    expect(await httpsThroughTunnel(answer.socket, 'tls.test.example', tlsServer.ca)).toBe(TLS_SERVER_BODY);
  });

  test('an allowlisted name resolving to a private address, and a mixed answer, are refused', async () => {
    for (const name of ['private.test.example', 'mixed.test.example']) {
      const answer = await raw(egressPort, connectRequest(`${name}:443`, basic(aliceToken)), true);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).detail).toMatch(/resolves to a (private|loopback) address/);
    }
  });

  test('an answer that changes between check and connect: resolved once, the vetted address is dialled', async () => {
    const before = resolverCalls.filter((n) => n === 'rebind.test.example').length;
    const answer = await raw(egressPort, connectRequest(`rebind.test.example:${tlsServer.port}`, basic(aliceToken)), true);
    expect(answer.status).toBe(200);
    // Had the proxy resolved a second time it would have got 10.0.0.1, which is refused; the
    // TLS server answering proves the connection went to the first, vetted answer.
    expect(await httpsThroughTunnel(answer.socket, 'rebind.test.example', tlsServer.ca)).toBe(TLS_SERVER_BODY);
    expect(resolverCalls.filter((n) => n === 'rebind.test.example').length).toBe(before + 1);
  });

  test('an allowed host on a port not allowed is refused', async () => {
    const answer = await raw(egressPort, connectRequest('tls.test.example:22', basic(aliceToken)), true);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).detail).toContain('not on port 22');
  });

  test('absolute-form HTTP is forwarded without the proxy credential or hop-by-hop headers', async () => {
    const target = `plain.test.example:${plainPort}`;
    const answer = await raw(
      egressPort,
      `GET http://${target}/hello?x=1 HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${basic(aliceToken)}\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: 1\r\nX-Kept: yes\r\n\r\n`,
      false,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('plain ok');
    expect(answer.head.toLowerCase()).not.toContain('x-drop-me');
    const seen = plainRequests.at(-1)!;
    expect(seen.path).toBe('/hello?x=1');
    expect(seen.headers.host).toBe(target);
    expect(seen.headers['x-kept']).toBe('yes');
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-secret-hop']).toBeUndefined();
  });

  test('an absolute-form request whose Host differs from its URI is refused and not forwarded', async () => {
    const count = plainRequests.length;
    const answer = await raw(
      egressPort,
      `GET http://plain.test.example:${plainPort}/ HTTP/1.1\r\nHost: 169.254.169.254\r\nProxy-Authorization: ${basic(aliceToken)}\r\nConnection: close\r\n\r\n`,
      false,
    );
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).detail).toContain('Host header');
    expect(plainRequests.length).toBe(count);
  });

  test('absolute-form without a credential is 407; https:// absolute-form is refused', async () => {
    const target = `plain.test.example:${plainPort}`;
    const noAuth = await raw(egressPort, `GET http://${target}/ HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`, false);
    expect(noAuth.status).toBe(407);
    expect(noAuth.head.toLowerCase()).toContain('proxy-authenticate');
    const https = await raw(egressPort, `GET https://${target}/ HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${basic(aliceToken)}\r\nConnection: close\r\n\r\n`, false);
    expect(https.status).toBe(403);
  });

  test('a redirect is relayed to the client, never followed by the proxy', async () => {
    const count = plainRequests.length;
    const target = `plain.test.example:${plainPort}`;
    const answer = await raw(egressPort, `GET http://${target}/redirect HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${basic(aliceToken)}\r\nConnection: close\r\n\r\n`, false);
    expect(answer.status).toBe(302);
    expect(answer.head).toContain('169.254.169.254');
    expect(plainRequests.length).toBe(count + 1);
  });

  test('oversized request headers are refused with 431 before any decision', async () => {
    const answer = await raw(egressPort, connectRequest(`tls.test.example:${tlsServer.port}`, basic(aliceToken), `X-Pad: ${'a'.repeat(10_000)}\r\n`), true);
    expect(answer.status).toBe(431);
  });

  test('an idle tunnel is closed by the proxy (tunnelIdleTimeoutMs)', async () => {
    const short = createEgressServer({
      credentials,
      store,
      tenants: () => ({ allowlist: compileAllowlist([`127.0.0.1:${tlsServer.port}`]) }),
      upstreamUrl: 'http://127.0.0.1:9',
      realKeyFor: () => undefined,
      registry: new Registry(),
      logger: pino({ level: 'silent' }),
      limits: { tunnelIdleTimeoutMs: 100 },
    });
    try {
      const shortPort = (await short.listen(0, '127.0.0.1')).port;
      const answer = await raw(shortPort, connectRequest(`127.0.0.1:${tlsServer.port}`, basic(aliceToken)), true);
      expect(answer.status).toBe(200);
      // Nothing is sent; the proxy must end the tunnel on its own (the test would hang otherwise).
      answer.socket.resume();
      await new Promise((resolve) => answer.socket.once('close', resolve));
      expect(answer.socket.destroyed).toBe(true);
    } finally {
      await short.close();
    }
  });

  test('a tenant past its open-tunnel cap gets 429 quota_exceeded, counted as tunnel_cap; closing one frees a slot', async () => {
    const capRegistry = new Registry();
    const capped = createEgressServer({
      credentials,
      store,
      tenants: () => ({ allowlist: compileAllowlist([`127.0.0.1:${tlsServer.port}`]) }),
      upstreamUrl: 'http://127.0.0.1:9',
      realKeyFor: () => undefined,
      registry: capRegistry,
      logger: pino({ level: 'silent' }),
      limits: { maxTunnelsPerTenant: 2 },
    });
    try {
      const cappedPort = (await capped.listen(0, '127.0.0.1')).port;
      const open = () => raw(cappedPort, connectRequest(`127.0.0.1:${tlsServer.port}`, basic(aliceToken)), true);
      const first = await open();
      const second = await open();
      expect([first.status, second.status]).toEqual([200, 200]);
      const third = await open();
      expect(third.status).toBe(429);
      expect(JSON.parse(third.body)).toMatchObject({ code: 'quota_exceeded' });
      expect(await capRegistry.metrics()).toMatch(/berth_egress_decisions_total\{kind="connect",outcome="deny",reason="tunnel_cap"\} 1/);
      first.socket.destroy();
      // The slot comes back once the proxy has seen the close (bounded wait, fails loudly).
      await waitFor('the tunnel slot back after the close', async () => {
        const again = await open();
        again.socket.destroy();
        expect(again.status).toBe(200);
        return true;
      }, { retryErrors: true });
      second.socket.destroy();
    } finally {
      await capped.close();
    }
  });

  test('metrics count decisions by outcome and reason, bytes, without tenant labels', async () => {
    // Tunnel bytes are counted when a tunnel closes, which follows the TLS close asynchronously.
    await waitFor("the tunnel's bytes counted", async () => {
      expect(await registry.metrics()).toMatch(/berth_egress_bytes_total\{kind="connect",direction="downstream"\} [1-9]/);
      return true;
    }, { retryErrors: true });
    const text = await registry.metrics();
    expect(text).toMatch(/berth_egress_decisions_total\{kind="connect",outcome="allow",reason="ok"\} [1-9]/);
    expect(text).toMatch(/berth_egress_decisions_total\{kind="connect",outcome="deny",reason="credential_missing"\} 1/);
    expect(text).toMatch(/berth_egress_decisions_total\{kind="connect",outcome="deny",reason="not_allowlisted"\} [1-9]/);
    expect(text).toMatch(/berth_egress_decisions_total\{kind="http",outcome="deny",reason="host_mismatch"\} 1/);
    expect(text).toMatch(/berth_egress_bytes_total\{kind="connect",direction="downstream"\} [1-9]/);
    expect(text).not.toContain('alice');
  });

  test('GET /healthz answers on the same port', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: egressPort, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBe(200);
  });
});
