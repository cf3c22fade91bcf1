import { expect } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { describeIcmpSteps } from './helpers/icmp-steps.js';

// icmp-steps.test.ts with the iptables backend: the echo request rules are `-m length`
// matches, which count the whole IP packet (the kernel's LEN=) in both families.
const missing = missingPrerequisites(['ip', 'iptables', 'ip6tables', 'iptables-restore', 'ip6tables-restore', 'nc', 'ping'], true);
explainSkip('end-to-end icmp step tests (iptables)', missing);

describeIcmpSteps({
  title: 'icmp:N steps against a real daemon (iptables, kmsg)',
  name: 'kw12-icmp',
  subnet: 220,
  firewall: 'iptables',
  // The kernel log is shared by every namespace: this suite's LOG lines carry a prefix of its own.
  options: 'log_prefix = KW12ICMP\n',
  installed: (lab) => {
    const rules = (cli: string): string[] => lab.inServer([cli, '-w', '-S', 'KNOCKWATCH']).split('\n').filter((line) => line.includes('-m length'))
      .map((line) => line.replace(/ -m comment .* -j /, ' -j ').replace(/ --log-prefix .*/, ''));
    expect(rules('iptables')).toEqual([
      '-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 100 -j LOG',
      '-A KNOCKWATCH -p icmp -m icmp --icmp-type 8 -m length --length 100 -j DROP',
    ]);
    expect(rules('ip6tables')).toEqual([
      '-A KNOCKWATCH -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m length --length 100 -j LOG',
      '-A KNOCKWATCH -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m length --length 100 -j DROP',
    ]);
  },
}, missing.length > 0);
