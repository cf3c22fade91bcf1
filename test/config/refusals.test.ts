import { describe, expect, it } from 'vitest';
import { configProblems } from '../helpers/config-problems.js';

describe('config: what locks everyone out or means something else is refused', () => {
  it.each([
    // a knock port that is a port a door opens: LOG+DROP on 22 ahead of the whitelist
    ['[d]\nsequence = 22,8000,9000', ['knockwatch.ini [d] sequence: expected knock ports other than the ports doors open (22/tcp is opened by [d]; its LOG+DROP would shut it for everyone, whitelist included), found "22/tcp"']],
    ['[a]\nsequence = 1,2\nopen = 443/tcp\n[b]\nsequence = 443,3', ['knockwatch.ini [b] sequence: expected knock ports other than the ports doors open (443/tcp is opened by [a]; its LOG+DROP would shut it for everyone, whitelist included), found "443/tcp"']],
    // a trap port that is a knock step: knocking the door correctly would trap the owner
    ['[options]\ntrap_ports = 8000\n[d]\nsequence = 7000,8000,9000', ['knockwatch.ini [options] trap_ports: expected ports no door knocks on (8000/tcp is a step of [d]; knocking it correctly would trap the knocker), found "8000/tcp"']],
    ['[options]\ntrap_ports = 22\n[d]\nsequence = 1,2', ['knockwatch.ini [options] trap_ports: expected knock ports other than the ports doors open (22/tcp is opened by [d]; its LOG+DROP would shut it for everyone, whitelist included), found "22/tcp"']],
    // duplicate sections (without case), a second [options], a duplicate key (ini would merge them)
    ['[openSSH]\nsequence = 1\n[openssh]\nsequence = 2', ['knockwatch.ini [openssh] line 3: expected each section name once (compared without case), found "[openssh] again (first on line 1)"']],
    ['[options]\nfirewall = nftables\n[d]\nsequence = 1\n[Options]\nfirewall = command', ['knockwatch.ini [Options] line 5: expected one [options] section, found "[Options] again (first on line 1)"']],
    ['[d]\nsequence = 1\nSequence = 2', ['knockwatch.ini [d] line 3 Sequence: expected each key once in a section, found "Sequence again (first on line 2)"']],
    // whitelist: host bits, trailing garbage, every bad entry reported
    ['[options]\nwhitelist = 10.0.0.1/8, 10.0.0.0/24x, 2001:db8::1/48, 300.1.1.1, ::ffff:192.0.2.1/120\n[d]\nsequence = 1', [
      'knockwatch.ini [options] whitelist: expected a network address such as 10.0.0.0/8 (no host bits after the prefix), found "10.0.0.1/8"',
      'knockwatch.ini [options] whitelist: expected IPv4/IPv6 addresses or networks (192.0.2.0/24, 2001:db8::/48), found "10.0.0.0/24x"',
      'knockwatch.ini [options] whitelist: expected a network address such as 2001:db8::/48 (no host bits after the prefix), found "2001:db8::1/48"',
      'knockwatch.ini [options] whitelist: expected IPv4/IPv6 addresses or networks (192.0.2.0/24, 2001:db8::/48), found "300.1.1.1"',
      // an IPv4-mapped entry is shown as the IPv4 network it means
      'knockwatch.ini [options] whitelist: expected a network address such as 192.0.2.0/24 (no host bits after the prefix), found "::ffff:192.0.2.1/120"',
    ]],
    // a door named like knockwatch's own rules (its grants would be read as the whitelist)
    ['[Whitelist]\nsequence = 1,2', ['knockwatch.ini [Whitelist]: expected a door name other than whitelist, gate, ban, knock, established, loopback, trap, options (knockwatch\'s own rules are named so), found "Whitelist"']],
    // a key given as a list: its values are not shown (they may be a secret)
    ['[d]\nsequence = 1,2\nsecret[] = hunter2-secret', ['knockwatch.ini [d] secret: expected a single value (key = value, not key[] = value), found "a list of 1"']],
    ['[fleet]\nredis[] = redis://:hunter2-secret@h:6379\ngroup = g\n[d]\nsequence = 1,2', [
      'knockwatch.ini [fleet] redis: expected a single value (key = value, not key[] = value), found "a list of 1"',
      'knockwatch.ini [fleet] redis: expected the group\'s Redis, redis://[user@]host[:port][/db] or rediss:// for TLS, found nothing',
    ]],
    ['[options]\nwhitelist = 10.0.0.0/24;x\n[d]\nsequence = 1', ['knockwatch.ini [options] line 2 whitelist: expected a value without ; or # (ini cuts the value there; put a space before an inline comment), found "10.0.0.0/24;x"']],
  ])('%j', (text, expected) => {
    expect(configProblems(text)).toEqual(expected);
  });

  it.each([
    // the same port with the other protocol is fine
    '[d]\nsequence = 22:udp,8000',
    // an inline comment after a space is a comment
    '[options]\nwhitelist = 10.0.0.0/24 ; the office\n[d]\nsequence = 1',
    // the same key in two sections
    '[a]\nsequence = 1\n[b]\nsequence = 2',
    // names that only contain a reason a grant is closed for
    '[logout door]\nsequence = 1\n[revoked2]\nsequence = 2\n[admins]\nsequence = 3',
  ])('%j is accepted', (text) => {
    expect(configProblems(text)).toEqual([]);
  });
});
