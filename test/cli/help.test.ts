import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

// The flags an --help text lists under Options, in order.
function optionFlags(help: string): string[] {
  const section = help.split('\nOptions:\n')[1] ?? '';
  return section.split('\n').filter((text) => /^ {2}\S|^ {6}-/.test(text)).map((text) => text.trim().split(/ {2,}/)[0] ?? '');
}

const CONTROL = ['--control-socket PATH', '-c, --config FILE', '-h, --help'];
const DAEMON = ['-c, --config FILE', '-l, --log PATH', '--auth-log PATH', '--firewall KIND', '--state-file PATH', '--record FILE', '-v, --verbose'];

describe('every command has its own --help', () => {
  it.each([
    // the daemon and its careful start
    ['run', 'knockwatch [run] [--config FILE] [--log PATH] [--auth-log PATH] [--firewall KIND] [--state-file PATH]', [...DAEMON, '-h, --help']],
    ['try', 'knockwatch try [--config FILE] [--timeout SECONDS] [--log PATH] [--auth-log PATH]', ['--timeout SECONDS', ...DAEMON, '-h, --help']],
    // setting up and tearing down
    ['init', 'knockwatch init [--config FILE] [--force]', ['-c, --config FILE', '--force', '-h, --help']],
    ['flush', 'knockwatch flush', ['-h, --help']],
    ['check', 'knockwatch check [--config FILE] [--firewall KIND] [--log PATH] [--auth-log PATH] [--show-secrets]', ['-c, --config FILE', '--firewall KIND', '-l, --log PATH', '--auth-log PATH', '--show-secrets', '-h, --help']],
    // offline tools
    ['replay', 'knockwatch replay FILE... [--auth-log FILE]... [--config FILE] [-v] [--json] [--timezone ZONE]', ['--auth-log FILE', '-c, --config FILE', '-v, --verbose', '--json', '--timezone ZONE', '-h, --help']],
    ['parse', 'knockwatch parse FILE [--filter netfilter|PATH.conf] [--json] [--timezone ZONE]', ['--filter NAME', '--json', '--timezone ZONE', '-h, --help']],
    // asking the running daemon
    ['status', 'knockwatch status [--json] [-v] [--control-socket PATH]', ['--json', '-v, --verbose', ...CONTROL]],
    ['unban', 'knockwatch unban ADDR [--control-socket PATH]', CONTROL],
    ['close', 'knockwatch close ADDR [DOOR] [--control-socket PATH]', CONTROL],
    // the client
    ['knock', 'knockwatch knock HOST [DOOR | STEP...] [-u] [-d MS] [-4|-6] [--source ADDR] [--connect PORT]',
      ['-c, --config FILE', '-u, --udp', '--delay SECONDS', '-d, --delay-ms MS', '-4, --ipv4', '-6, --ipv6', '--source ADDR', '--connect PORT', '--wait SECONDS', '-v, --verbose', '-h, --help']],
  ])('%s --help', async (command, synopsis, flags) => {
    const result = await cli(command, '--help');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe(`Usage: ${synopsis}`);
    expect(optionFlags(result.stdout)).toEqual(flags);
  });

  it('is the same with -h and with the option before the command', async () => {
    const help = await cli('replay', '--help');
    expect(await cli('replay', '-h')).toEqual(help);
    expect(await cli('--help', 'replay')).toEqual(help);
  });

  it('does not run the command', async () => {
    const result = await cli('run', '--config', '/nonexistent/knockwatch.ini', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('Usage: knockwatch [run] [--config FILE] [--log PATH] [--auth-log PATH] [--firewall KIND] [--state-file PATH]');
  });

  it('refuses an unknown command', async () => {
    expect(await cli('bogus', '--help')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'knockwatch: unknown command "bogus" (run, try, init, flush, replay, parse, check, status, unban, close, knock; see --help)\nTry knockwatch --help.\n',
    });
  });

  it('knockwatch --help lists every command and points to the per-command help', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    const synopses = result.stdout.split('\n').filter((text) => text.startsWith('  knockwatch ')).map((text) => text.trim().split(' ')[1]);
    expect(synopses).toEqual(['[run]', 'try', 'init', 'flush', 'replay', 'parse', 'check', 'status', 'unban', 'close', 'knock']);
    expect(result.stdout).toContain('Each command has its own help: knockwatch COMMAND --help.\n');
  });
});
