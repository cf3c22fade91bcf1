import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFilter, createRuleMatcher, firstCharacters, literalPrefix, loadFilterFile, matchFilter, stripGroupNames } from '../../src/filters/load-filter.js';
import { parseSyslogEnvelope } from '../../src/filters/syslog-envelope.js';

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

describe('the characters a match can start with', () => {
  it.each([
    ['^Failed (x)$', 'F'],
    ['^(?:Invalid|Illegal) user$', 'II'],
    ['^(?:error: )?Received$', 'eR'],
    ['^(?:a|(?:b|c)d)+x$', 'abc'],
    ['^\\[x\\]$', '['],
    ['^(?:a )?(?:b )?c$', 'abc'],
    // a `)` or `|` escaped or in a class neither closes a group nor parts alternatives
    ['^(?:a[)|]|b)c$', 'ab'],
    ['^(?:a\\)|b)c$', 'ab'],
    // cannot tell: the rule is tried for every message
    ['^(?:a )?$', undefined],
    ['^(?:a|)b$', undefined],
    ['^a?b$', undefined],
    ['^a*b$', undefined],
    ['^(?:a)??b$', undefined],
    ['^(?:a){0,2}b$', undefined],
    ['^[ab]c$', undefined],
    ['^.x$', undefined],
    ['^\\dx$', undefined],
    ['^(?=a)a$', undefined],
    ['^a$|b$', undefined],
  ])('%s: %s', (source, expected) => {
    expect(firstCharacters(source)).toBe(expected);
  });
});

describe('the rule matcher (rules sorted by their first character)', () => {
  // Rules with and without a literal start, in an order where a prefixless rule comes
  // between two of the same first character, and a rule that can start with anything (a
  // class) after them: tried for every message, whatever its first character.
  const filter = compileFilter([
    '[Definition]', 'tags = sshd', 'failregex = failure/failed: ^Failed (?<user>a) from <HOST>$',
    '            failure/invalid-user: ^(?:Failed|Invalid) (?<user>\\w+) from <HOST>$',
    '            noise/failed: ^Failed (?<user>\\w+) from <HOST>$',
    '            login/accepted: ^Accepted (?<user>\\w+) from <HOST>$',
    '            failure/not-allowed: ^[A-Z]\\w+ (?<user>\\w+) not allowed from <HOST>$',
    'ignoreregex = ^Accepted nobody from .*$', '',
  ].join('\n'), 'f.conf');
  const kindOf = (message: string): string | undefined => {
    const found = createRuleMatcher(filter)(message);
    return found === undefined ? undefined : filter.rules[found.index]?.kind;
  };

  it.each([
    ['Failed a from 192.0.2.1', 'failure/failed'],
    ['Failed b from 192.0.2.1', 'failure/invalid-user'],
    ['Invalid b from 192.0.2.1', 'failure/invalid-user'],
    ['Accepted b from 192.0.2.1', 'login/accepted'],
    ['Accepted nobody from 192.0.2.1', undefined],
    ['Xyz b from 192.0.2.1', undefined],
    ['Failed b not allowed from 192.0.2.1', 'failure/not-allowed'],
    ['Accepted b not allowed from 192.0.2.1', 'failure/not-allowed'],
    ['Xyz b not allowed from 192.0.2.1', 'failure/not-allowed'],
    ['', undefined],
  ])('reads %j as %s', (message, kind) => {
    expect(kindOf(message)).toBe(kind);
  });

  // Every sample of both shipped filters: the same rule as trying each in the file's order.
  it.each(['sshd', 'netfilter'])('picks the rule matchFilter picks for every line of logs-samples/%s.log', (name) => {
    const shipped = loadFilterFile(new URL(`../../filters/${name}.conf`, import.meta.url).pathname);
    const matchRule = createRuleMatcher(shipped);
    const differing: string[] = [];
    const text = readFileSync(new URL(`../../logs-samples/${name}.log`, import.meta.url), 'utf8');
    for (const line of text.split('\n')) {
      const message = parseSyslogEnvelope(line)?.message ?? line;
      const found = matchRule(message);
      const fromRule = found === undefined ? undefined : shipped.rules[found.index]?.kind;
      if (fromRule !== matchFilter(shipped, message)?.kind) differing.push(line);
    }
    expect(differing).toEqual([]);
  });
});
