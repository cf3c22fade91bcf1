import { describe, expect, it } from 'vitest';
import { createLogger, isUnderSystemd } from '../../src/runtime/logger.js';

function capture(journald: boolean, verbose = false): { lines: () => string[]; logger: ReturnType<typeof createLogger> } {
  let text = '';
  const logger = createLogger({ out: { write: (chunk: string) => { text += chunk; } }, clock: { now: () => Date.parse('2026-11-22T09:00:00Z') }, journald, verbose });
  return { lines: () => text.trim().split('\n'), logger };
}

describe('daemon log lines', () => {
  it('carry syslog priorities and no time stamp under systemd', () => {
    const { lines, logger } = capture(true);
    logger.log('error', 'Firewall open failed: nft not found.');
    logger.log('notice', 'Opened 22/tcp for 203.0.113.7.');
    expect(lines()).toEqual(['<3>Firewall open failed: nft not found.', '<5>Opened 22/tcp for 203.0.113.7.']);
  });

  it('carry a time stamp and a level on a terminal', () => {
    const { lines, logger } = capture(false);
    logger.log('warning', 'Will retry.');
    expect(lines()).toEqual(['2026-11-22T09:00:00.000Z WARNING Will retry.']);
  });

  it('keep one event on one line, whatever a message holds', () => {
    const { lines, logger } = capture(true);
    logger.log('info', 'Reading /var/log/kern\nforged line.');
    expect(lines()).toEqual(['<6>Reading /var/log/kern forged line.']);
  });

  it('leave debug out unless verbose', () => {
    const quiet = capture(true);
    quiet.logger.log('debug', 'Step.');
    expect(quiet.lines()).toEqual(['']);
    const verbose = capture(true, true);
    verbose.logger.log('debug', 'Step.');
    expect(verbose.lines()).toEqual(['<7>Step.']);
  });

  it('know when systemd runs them', () => {
    expect(isUnderSystemd({ JOURNAL_STREAM: '8:12345' })).toBe(true);
    expect(isUnderSystemd({})).toBe(false);
  });
});
