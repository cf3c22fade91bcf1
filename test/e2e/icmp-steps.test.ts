import { expect } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { describeIcmpSteps } from './helpers/icmp-steps.js';

// icmp:N steps with the nftables backend (icmp-steps-iptables.test.ts: iptables).
const missing = missingPrerequisites(['ip', 'nft', 'nc', 'ping'], true);
explainSkip('end-to-end icmp step tests', missing);

describeIcmpSteps({
  title: 'icmp:N steps against a real daemon (nftables, kmsg)',
  name: 'kwe2e-icmp',
  subnet: 214,
  firewall: 'nftables',
  installed: (lab) => {
    const table = lab.inServer(['nft', 'list', 'table', 'inet', 'knockwatch']);
    expect(table).toContain('icmp type echo-request ip length 100 log prefix');
    expect(table).toContain('icmpv6 type echo-request ip6 length 60 log prefix');
  },
}, missing.length > 0);
