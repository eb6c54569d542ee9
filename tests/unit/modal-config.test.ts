// modalOptionsFromEnv (orchestrator/src/backends/modal/modal-config.ts): the Modal backend's
// environment settings, every problem reported at once.
import { expect, test } from 'vitest';
import { modalOptionsFromEnv } from '@berth/orchestrator/modal';

test('defaults: encrypted tunnels, egress locked to the default egress gateway address', () => {
  expect(modalOptionsFromEnv({})).toEqual({ options: { tunnel: 'encrypted', egressCidrs: ['127.0.0.1/32'] }, problems: [] });
});

test('the egress CIDR follows BERTH_EGRESS_PUBLIC_URL when it is an IP literal (v4 and v6)', () => {
  expect(modalOptionsFromEnv({ BERTH_EGRESS_PUBLIC_URL: 'http://203.0.113.7:8081' }).options.egressCidrs).toEqual(['203.0.113.7/32']);
  expect(modalOptionsFromEnv({ BERTH_EGRESS_PUBLIC_URL: 'http://[2001:db8::7]:8081' }).options.egressCidrs).toEqual(['2001:db8::7/128']);
});

test('a host name needs explicit BERTH_MODAL_EGRESS_CIDRS, which win when set', () => {
  expect(modalOptionsFromEnv({ BERTH_EGRESS_PUBLIC_URL: 'http://egress.example.com:8081' }).problems).toEqual([expect.stringContaining('BERTH_MODAL_EGRESS_CIDRS')]);
  const ok = modalOptionsFromEnv({ BERTH_EGRESS_PUBLIC_URL: 'http://egress.example.com:8081', BERTH_MODAL_EGRESS_CIDRS: '203.0.113.7, 198.51.100.0/24' });
  expect(ok).toEqual({ options: { tunnel: 'encrypted', egressCidrs: ['203.0.113.7/32', '198.51.100.0/24'] }, problems: [] });
});

test('bad values are all reported, each naming its variable', () => {
  const { problems } = modalOptionsFromEnv({ BERTH_MODAL_TUNNEL: 'tls', BERTH_MODAL_EGRESS_CIDRS: '10.0.0.0/33,nope' });
  expect(problems).toHaveLength(3);
  expect(problems[0]).toContain('BERTH_MODAL_TUNNEL');
  expect(problems.slice(1).every((p) => p.startsWith('BERTH_MODAL_EGRESS_CIDRS'))).toBe(true);
});

test('the fake Modal env (BERTH_MODAL_TUNNEL=unencrypted) is accepted', () => {
  expect(modalOptionsFromEnv({ BERTH_MODAL_TUNNEL: 'unencrypted' }).options.tunnel).toBe('unencrypted');
});
