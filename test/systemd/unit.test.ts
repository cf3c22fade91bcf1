import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STARTER_CONFIG } from '../../src/cli/starter-config.js';
import { DEFAULTS, parseConfig } from '../../src/config/load-config.js';
import { packageRoot } from '../../src/runtime/package-paths.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';

const root = packageRoot();
const unitText = readFileSync(join(root, 'systemd/knockwatch.service'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; license: string; bin: Record<string, string>; engines: { node: string } };
// DESIGN.md's control socket: the daemon listens there unless control_socket says otherwise.
const CONTROL_SOCKET = '/run/knockwatch/control.sock';

// A unit file as systemd reads it: [Section] headers, Key=value lines (a key may repeat),
// comments and blank lines ignored.
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const textLine = raw.trim();
    if (textLine === '' || textLine.startsWith('#') || textLine.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(textLine);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      continue;
    }
    const eq = textLine.indexOf('=');
    if (current === undefined || eq < 1) throw new Error(`not a unit line: ${textLine}`);
    const key = textLine.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), textLine.slice(eq + 1).trim()]);
  }
  return sections;
}

const unit = parseUnit(unitText);
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (section: Map<string, string[]> | undefined, key: string): string => {
  const values = section?.get(key) ?? [];
  if (values.length !== 1) throw new Error(`${key}: expected one value, found ${values.length}`);
  return values[0] ?? '';
};
const words = (section: Map<string, string[]> | undefined, key: string): string[] => (section?.get(key) ?? []).flatMap((value) => value.split(/\s+/));

// The install step the README documents: npm install -g --prefix PREFIX ./NAME-VERSION.tgz.
function documentedInstall(): { prefix: string; tarball: string } {
  const match = /^ {4}npm install -g --prefix (\S+) \.\/(\S+\.tgz)/m.exec(readme);
  if (!match) throw new Error('README has no "npm install -g --prefix PREFIX ./TARBALL" step');
  return { prefix: match[1] ?? '', tarball: match[2] ?? '' };
}

describe('the documented install and systemd/knockwatch.service', () => {
  it('installs the tarball npm pack makes of this version', () => {
    expect(readme).toMatch(/^ {4}npm ci && npm pack /m);
    expect(documentedInstall().tarball).toBe(`${pkg.name}-${pkg.version}.tgz`);
  });

  it('runs the command where the documented install puts it', () => {
    const { prefix } = documentedInstall();
    const bin = posix.join(prefix, 'bin', Object.keys(pkg.bin)[0] ?? '');
    expect(one(service, 'ExecStart').split(/\s+/)[0]).toBe(bin);
    expect(one(unit.get('Unit'), 'Documentation')).toBe(`file:${posix.join(prefix, 'lib/node_modules', pkg.name, 'README.md')}`);
  });

  // `run` makes every check of `check` before its first firewall change: a `check` in
  // ExecStartPre would parse the config and probe the machine (journal, firewall) twice.
  it('starts `run`, which checks the config itself, with no second process for the same checks', () => {
    expect(one(service, 'ExecStart').split(/\s+/).slice(1)).toEqual(['run', '--config', '/etc/knockwatch/knockwatch.ini']);
    expect(service.has('ExecStartPre')).toBe(false);
  });

  it('can write every place knockwatch writes, and nothing else', () => {
    expect(one(service, 'ProtectSystem')).toBe('strict');
    const writable = [
      ...words(service, 'ReadWritePaths'),
      ...words(service, 'StateDirectory').map((name) => `/var/lib/${name}`),
      ...words(service, 'RuntimeDirectory').map((name) => `/run/${name}`),
    ];
    const starter = parseConfig(STARTER_CONFIG, 'knockwatch.ini');
    const writes = [DEFAULTS.stateFile, starter.options.stateFile, CONTROL_SOCKET];
    const unreachable = writes.filter((path) => !writable.some((dir) => path.startsWith(`${dir}/`)));
    expect(unreachable).toEqual([]);
    expect(writable.filter((dir) => !writes.some((path) => path.startsWith(`${dir}/`)))).toEqual([]);
  });

  it('keeps the state and the control socket to root', () => {
    expect([one(service, 'StateDirectoryMode'), one(service, 'RuntimeDirectoryMode'), one(service, 'UMask')]).toEqual(['0700', '0700', '0077']);
    expect(service.has('User')).toBe(false);
  });

  it('reloads with the signal the daemon reloads on, and waits for the network it knocks on', () => {
    expect(one(service, 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    // After= alone does not pull network-online.target in; Wants= does.
    expect(words(unit.get('Unit'), 'After')).toContain('network-online.target');
    expect(words(unit.get('Unit'), 'Wants')).toContain('network-online.target');
  });

  it('has the hardening the README promises', () => {
    const promised = { NoNewPrivileges: 'yes', ProtectHome: 'yes', PrivateTmp: 'yes', Restart: 'on-failure' };
    expect(Object.fromEntries(Object.keys(promised).map((key) => [key, one(service, key)]))).toEqual(promised);
    expect(words(service, 'CapabilityBoundingSet').sort()).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYSLOG']);
  });

  it('can read the kernel log it reads by default (/dev/kmsg), and no other device', () => {
    // ProtectKernelLogs and PrivateDevices would both take /dev/kmsg away.
    expect(service.get('ProtectKernelLogs')).toBeUndefined();
    expect(service.get('PrivateDevices')).toBeUndefined();
    expect(one(service, 'DevicePolicy')).toBe('closed');
    expect(one(service, 'DeviceAllow')).toBe('/dev/kmsg r');
  });

  it('agrees with the README on the Node.js version (package.json engines)', () => {
    const engines = pkg.engines.node;
    const mentioned = [...readme.matchAll(/Node\.js (\d+(?:\.\d+)?) or later/g)].map((match) => `>=${match[1]}`);
    expect(new Set(mentioned)).toEqual(new Set([engines]));
  });
});

describe('the package npm pack makes', () => {
  it('holds what the unit, the bin and the demo need, and the license', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8' });
    expect(packed.status).toBe(0);
    const files = new Set((JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path));
    const needed = [...Object.values(pkg.bin), 'systemd/knockwatch.service', 'filters/netfilter.conf', 'filters/sshd.conf',
      'logs-samples/knockwatch.ini', 'logs-samples/kern.log', 'README.md', 'LICENSE', 'package.json'];
    expect(needed.filter((path) => !files.has(path.replace(/^\.\//, '')))).toEqual([]);
  });

  it('is licensed as package.json says', () => {
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license.split('\n').slice(0, 3)).toEqual([`${pkg.license} License`, '', 'Copyright (c) 2026 knockwatch developers']);
  });
});

const missing = missingPrerequisites(['systemd-analyze'], false);
explainSkip('systemd unit verification', missing);

describe('systemd-analyze verify', () => {
  it.skipIf(missing.length > 0)('accepts the unit without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-unit-'));
    try {
      // verify checks that ExecStart exists: point it at this checkout's build.
      const copy = join(dir, 'knockwatch.service');
      writeFileSync(copy, unitText.replaceAll(one(service, 'ExecStart').split(/\s+/)[0] ?? '', join(root, 'dist/src/cli/bin.js')));
      const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      expect(result.stderr.trim()).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
