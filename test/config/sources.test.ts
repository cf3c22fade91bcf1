import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError, formatProblem } from '../../src/config/problems.js';
import type { Options } from '../../src/config/types.js';

const DOOR = '[d]\nsequence = 1\n';

function sources(options: string): Pick<Options, 'kernelSource' | 'authSource'> {
  const { kernelSource, authSource } = parseConfig(`[options]\n${options}${DOOR}`, 'k.ini').options;
  return { kernelSource, authSource };
}

function problems(options: string): string[] {
  try {
    parseConfig(`[options]\n${options}${DOOR}`, 'k.ini');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  return [];
}

describe('journal_directory', () => {
  it.each([
    // unset: the system journal
    ['', undefined],
    ['journal_directory = /var/log/journal/remote\n', '/var/log/journal/remote'],
    ['journal_directory = /srv/journal dir \n', '/srv/journal dir'],
  ])('reads %j', (options, expected) => {
    expect(parseConfig(`[options]\n${options}${DOOR}`, 'k.ini').options.journalDirectory).toEqual(expected);
  });

  it.each([
    ['journal_directory = journal\n', ['k.ini [options] journal_directory: expected an absolute path of a journal directory, found "journal"']],
    ['journal_directory = ./journal\n', ['k.ini [options] journal_directory: expected an absolute path of a journal directory, found "./journal"']],
    ['journal_directory =\n', ['k.ini [options] journal_directory: expected an absolute path of a journal directory, found nothing']],
  ])('refuses %j', (options, expected) => {
    expect(problems(options)).toEqual(expected);
  });
});

describe('kernel_source and auth_source', () => {
  it.each([
    // neither given: both decided on the machine
    ['', { kernelSource: { kind: 'auto' }, authSource: { kind: 'auto' } }],
    ['kernel_source = kmsg\nauth_source = journal\n', { kernelSource: { kind: 'kmsg' }, authSource: { kind: 'journal' } }],
    ['kernel_source = Journal\nauth_source = NONE\n', { kernelSource: { kind: 'journal' }, authSource: { kind: 'none' } }],
    ['kernel_source = auto\nauth_source = auto\n', { kernelSource: { kind: 'auto' }, authSource: { kind: 'auto' } }],
    ['kernel_source = file:/var/log/kern.log\nauth_source = file: /var/log/auth.log\n', { kernelSource: { kind: 'file', path: '/var/log/kern.log' }, authSource: { kind: 'file', path: '/var/log/auth.log' } }],
    // the older keys are file: sources, unchanged in meaning
    ['kern_log = /var/log/kern.log\nauth_log = /var/log/auth.log\n', { kernelSource: { kind: 'file', path: '/var/log/kern.log' }, authSource: { kind: 'file', path: '/var/log/auth.log' } }],
    ['kern_log = /var/log/kern.log\nauth_source = none\n', { kernelSource: { kind: 'file', path: '/var/log/kern.log' }, authSource: { kind: 'none' } }],
  ])('reads %j', (options, expected) => {
    expect(sources(options)).toEqual(expected);
  });

  it.each([
    // two answers to one question
    ['kern_log = /var/log/kern.log\nkernel_source = kmsg\n', ['k.ini [options] kern_log: expected kern_log or kernel_source, not both, found "both"']],
    ['auth_log = /var/log/auth.log\nauth_source = journal\n', ['k.ini [options] auth_log: expected auth_log or auth_source, not both, found "both"']],
    // knocks always have a source, and sshd's lines never come from kmsg
    ['kernel_source = none\n', ['k.ini [options] kernel_source: expected auto | kmsg | journal | file:PATH, found "none"']],
    ['auth_source = kmsg\n', ['k.ini [options] auth_source: expected auto | journal | file:PATH | none, found "kmsg"']],
    ['kernel_source = file:\n', ['k.ini [options] kernel_source: expected auto | kmsg | journal | file:PATH, found "file:"']],
    ['kernel_source = /var/log/kern.log\n', ['k.ini [options] kernel_source: expected auto | kmsg | journal | file:PATH, found "/var/log/kern.log"']],
    ['kern_log =\n', ['k.ini [options] kern_log: expected the path of a log file, found nothing']],
  ])('refuses %j', (options, expected) => {
    expect(problems(options)).toEqual(expected);
  });
});
