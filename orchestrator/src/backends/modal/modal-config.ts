// The Modal backend's settings that come from the environment, as a pure function the gateway's
// loadConfig (or `berth start --backend modal`) calls once: BERTH_MODAL_TUNNEL,
// BERTH_MODAL_EGRESS_CIDRS, and the egress gateway's CIDR derived from BERTH_EGRESS_PUBLIC_URL.
// Credentials (MODAL_TOKEN_ID / MODAL_TOKEN_SECRET, MODAL_ENVIRONMENT) are read by the `modal`
// client itself and never pass through berth. Problems are returned, all at once, never thrown.

import { isIP } from 'node:net';
import type { TunnelMode } from './sandbox-params.js';

export interface ModalEnvOptions {
  tunnel: TunnelMode;
  egressCidrs: string[];
}

export function modalOptionsFromEnv(env: Record<string, string | undefined>): { options: ModalEnvOptions; problems: string[] } {
  const problems: string[] = [];
  const tunnelRaw = env.BERTH_MODAL_TUNNEL ?? 'encrypted';
  if (tunnelRaw !== 'encrypted' && tunnelRaw !== 'unencrypted') problems.push(`BERTH_MODAL_TUNNEL: '${tunnelRaw}' is not one of encrypted, unencrypted`);
  const tunnel: TunnelMode = tunnelRaw === 'unencrypted' ? 'unencrypted' : 'encrypted';

  let egressCidrs: string[] = [];
  const listed = env.BERTH_MODAL_EGRESS_CIDRS;
  if (listed !== undefined && listed.trim() !== '') {
    egressCidrs = listed.split(',').map((s) => s.trim()).filter(Boolean);
    for (const cidr of egressCidrs) {
      const [ip, bits, extra] = cidr.split('/');
      const family = isIP(ip ?? '');
      const max = family === 6 ? 128 : 32;
      if (!family || extra !== undefined || (bits !== undefined && !(Number.isInteger(Number(bits)) && Number(bits) >= 0 && Number(bits) <= max))) {
        problems.push(`BERTH_MODAL_EGRESS_CIDRS: '${cidr}' is not an IPv4/IPv6 address or CIDR`);
      }
    }
    egressCidrs = egressCidrs.map((c) => (c.includes('/') ? c : `${c}/${isIP(c) === 6 ? 128 : 32}`));
  } else {
    // Modal allowlists addresses, not names: the egress gateway's public URL must be an IP literal.
    const publicUrl = env.BERTH_EGRESS_PUBLIC_URL ?? 'http://127.0.0.1:8081';
    let host = '';
    try {
      host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
    } catch {
      problems.push(`BERTH_EGRESS_PUBLIC_URL: '${publicUrl}' is not a URL`);
    }
    const family = isIP(host);
    if (family) egressCidrs = [`${host}/${family === 6 ? 128 : 32}`];
    else if (host) problems.push(`BERTH_MODAL_EGRESS_CIDRS: required because BERTH_EGRESS_PUBLIC_URL names a host (${host}); Modal's egress allowlist takes IP ranges`);
  }
  return { options: { tunnel, egressCidrs }, problems };
}
