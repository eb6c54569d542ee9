// Pins gateway/src/policy/address-class.ts: every special-purpose range (IANA IPv4 and IPv6
// registries, multicast, reserved, metadata) is special, translation prefixes are judged by the
// IPv4 address they embed, and ordinary public addresses are global.
import { describe, expect, test } from 'vitest';
import { classifyAddress } from '@berth/gateway/policy';

describe('classifyAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['0', 'this-network'],
    ['127.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0.0.0.0', 'this-network'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared-cgnat'],
    ['100.127.255.255', 'shared-cgnat'],
    ['169.254.169.254', 'metadata'],
    ['169.254.0.1', 'link-local'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['192.0.0.8', 'ietf-protocol'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.88.99.1', '6to4-relay'],
    ['192.31.196.1', 'as112'],
    ['192.52.193.1', 'amt'],
    ['192.175.48.1', 'as112'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'ipv4-mapped:loopback'],
    ['::ffff:7f00:1', 'ipv4-mapped:loopback'],
    ['::ffff:10.1.2.3', 'ipv4-mapped:private'],
    ['::ffff:169.254.169.254', 'ipv4-mapped:metadata'],
    ['64:ff9b::7f00:1', 'nat64:loopback'],
    ['64:ff9b::a9fe:a9fe', 'nat64:metadata'],
    ['64:ff9b:1::1', 'nat64-local'],
    ['::127.0.0.1', 'ipv4-compatible'],
    ['::ffff:0:7f00:1', 'ipv4-translated'],
    ['100::1', 'discard'],
    ['2001::1', 'ietf-protocol'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::1', '6to4'],
    ['2620:4f:8000::1', 'as112'],
    ['3fff::1', 'documentation'],
    ['5f00::1', 'srv6-sid'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'not-global-unicast'],
  ])('%s is special (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ special: true, range });
  });

  test.each([
    ['8.8.8.8', 'global'],
    ['1.1.1.1', 'global'],
    ['100.63.255.255', 'global'],
    ['100.128.0.0', 'global'],
    ['172.15.255.255', 'global'],
    ['172.32.0.0', 'global'],
    ['192.0.1.1', 'global'],
    ['198.20.0.0', 'global'],
    ['223.255.255.255', 'global'],
    ['2606:4700::1111', 'global'],
    ['2a00:1450:4001::200e', 'global'],
    ['::ffff:8.8.8.8', 'ipv4-mapped:global'],
    ['64:ff9b::808:808', 'nat64:global'],
  ])('%s is not special (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ special: false, range });
  });

  test('a name is not an address', () => {
    expect(() => classifyAddress('example.com')).toThrow(TypeError);
  });
});
