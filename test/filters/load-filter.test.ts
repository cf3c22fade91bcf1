import { describe, expect, it } from 'vitest';
import { compileFilter, literalPrefix, matchFilter, stripGroupNames } from '../../src/filters/load-filter.js';

describe('filter loading', () => {
  it.each([
    ['^Accepted (?<method>\\S+) for', 'Accepted '],
    ['^pam_unix\\(sshd:session\\): session', 'pam_unix(sshd:session): session'],
    ['^(?:Invalid|Illegal) user', ''],
    ['^Failed ?x', 'Failed'],
    ['^ab*c', 'a'],
    ['^\\d+ x', ''],
  ])('the literal start of %s is %j', (source, prefix) => {
    expect(literalPrefix(source)).toBe(prefix);
  });

  it('maps named groups to their capture index, skipping (?:...) and classes', () => {
    expect(stripGroupNames('^(?<a>x)(?:y)([(])(?<b>z)$')).toEqual({ source: '^(x)(?:y)([(])(z)$', names: [undefined, 'a', undefined, 'b'] });
  });

  it.each([
    ['[Definition]\ntags = kernel\nfailregex = knock: SRC=(?<src>\\S+)\n', 'every regex must be anchored'],
    ['[Definition]\ntags = kernel\nfailregex = knock: ^SRC=(?<src>\\S+)$\n            oops: ^x$\n', 'expected knock, other or an sshd class/kind'],
    ['[Definition]\nfailregex = knock: ^x$\n', 'tags: expected the syslog tags'],
    ['[Definition]\ntags = kernel\nfailregex = knock: ^(?<a>x)\\k<a>$\n', 'named back references'],
    ['[Definition]\ntags = kernel\nfailregex = knock: ^%(nothing)s$\n', 'refers to %(nothing)s'],
    ['[Other]\nx = 1\n', 'no [Definition] section'],
    ['[Definition]\ntags = kernel\npid = never\nfailregex = knock: ^x$\n', 'pid: expected none or any, found "never"'],
  ])('refuses a broken filter: %j', (text, message) => {
    expect(() => compileFilter(text, 'bad.conf')).toThrow(message);
  });

  it('matches with multi-line failregex values and ignoreregex', () => {
    const filter = compileFilter('[Definition]\ntags = sshd\nfailregex = failure/failed: ^Failed for (?<user>.*) from <HOST>$\n            login/accepted: ^Accepted for (?<user>.*) from <HOST>$\nignoreregex = ^Failed for ignored from .*$\n', 'f.conf');
    expect(matchFilter(filter, 'Accepted for a from 192.0.2.1')).toEqual({ kind: 'login/accepted', groups: { user: 'a', host: '192.0.2.1' } });
    expect(matchFilter(filter, 'Failed for ignored from 192.0.2.1')).toBeUndefined();
    expect(matchFilter(filter, 'Failed for x from [2001:db8::1]')).toEqual({ kind: 'failure/failed', groups: { user: 'x', host6: '2001:db8::1' } });
  });
});
