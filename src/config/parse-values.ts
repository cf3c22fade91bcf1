import type { DoorStep, StepProtocol, TcpFlagRule } from './types.js';
import { tcpFlagBit } from '../net/tcp-flags.js';

// `unquoted`: the same problem said without any of the input's text, where `found` or
// `expected` quote it, for input that is a secret (a one-time sequences line).
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string; found: string; unquoted?: Unquoted };

export interface Unquoted {
  expected: string;
  found: string;
}

const MAX_STEPS = 32;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

// The smallest echo request per family: IP header (20 or 40 bytes) and ICMP header (8).
const MIN_ECHO_LENGTH = 28;

// knockd's `7000,8000:udp,9000:tcp`; `sep` is ':' for knock steps and '/' for `open = 22/tcp`.
export function parseSteps(text: string, sep: ':' | '/', maxSteps = MAX_STEPS): Parsed<DoorStep[]> {
  return parseStepList(text, sep, maxSteps, false);
}

// A door's knock: ports as parseSteps reads them, and `icmp:N`, an echo request whose IP
// packet is N bytes long (the kernel's LEN=).
export function parseKnockSteps(text: string): Parsed<DoorStep[]> {
  return parseStepList(text, ':', MAX_STEPS, true);
}

function parseStepList(text: string, sep: ':' | '/', maxSteps: number, icmp: boolean): Parsed<DoorStep[]> {
  const items = text.split(',').map((item) => item.trim());
  const list = `a comma-separated list of ports (port${sep}tcp or port${sep}udp)`;
  const empty = items.indexOf('');
  if (text.trim() === '' || empty !== -1) return { ok: false, expected: list, found: text, unquoted: { expected: list, found: `an empty step ${empty + 1}` } };
  if (items.length > maxSteps) return { ok: false, expected: `at most ${maxSteps} steps`, found: `${items.length} steps` };
  const steps: DoorStep[] = [];
  for (const [index, item] of items.entries()) {
    const unquoted = (expected: string): Unquoted => ({ expected: `${expected} at step ${index + 1}`, found: 'something else' });
    if (icmp && /^icmp\s*:/i.test(item)) {
      const echo = parseEchoStep(item);
      if (!echo.ok) return { ...echo, unquoted: unquoted(echo.expected) };
      steps.push(echo.value);
      continue;
    }
    const [portText = '', protoText = 'tcp', extra] = item.split(sep).map((part) => part.trim());
    const port = parsePort(portText);
    if (port === undefined) return { ok: false, expected: 'a port (1-65535)', found: portText, unquoted: unquoted('a port (1-65535)') };
    const proto = protoText.toLowerCase();
    if (extra !== undefined || (proto !== 'tcp' && proto !== 'udp')) {
      return { ok: false, expected: `tcp or udp after "${port}${sep}"`, found: item, unquoted: unquoted('tcp or udp after the port') };
    }
    steps.push({ port, proto: proto as StepProtocol });
  }
  return { ok: true, value: steps };
}

function parseEchoStep(item: string): Parsed<DoorStep> {
  const lengthText = item.slice(item.indexOf(':') + 1).trim();
  const length = /^\d{1,5}$/.test(lengthText) ? Number(lengthText) : NaN;
  if (!(length >= MIN_ECHO_LENGTH && length <= 65535)) {
    return { ok: false, expected: `an echo request's IP packet length after "icmp:" (${MIN_ECHO_LENGTH}-65535; IPv6 needs 48 or more)`, found: item };
  }
  return { ok: true, value: { port: length, proto: 'icmp' } };
}

// `30`, `30s`, `500ms`, `5m`, `1h`, `1d`; a bare number is seconds, as in knockd.
export function parseDuration(text: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return { ok: false, expected: 'a duration (seconds, or a number with ms, s, m, h or d)', found: text };
  const value = Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000);
  if (!Number.isFinite(value) || value > 365 * 86_400_000) return { ok: false, expected: 'a duration of at most 365d', found: text };
  return { ok: true, value: Math.round(value) };
}

export function parseTcpFlags(text: string): Parsed<TcpFlagRule> {
  let required = 0;
  let forbidden = 0;
  const words = text.split(',').map((word) => word.trim().toLowerCase()).filter((word) => word !== '');
  if (words.length === 0) return { ok: false, expected: 'TCP flags such as syn or syn,!ack', found: text };
  for (const word of words) {
    const negated = word.startsWith('!');
    const bit = tcpFlagBit(negated ? word.slice(1) : word);
    if (bit === undefined) return { ok: false, expected: 'flags from fin, syn, rst, psh, ack, urg (! negates)', found: word };
    if (negated) forbidden |= bit;
    else required |= bit;
  }
  if ((required & forbidden) !== 0) return { ok: false, expected: 'no flag both required and negated', found: text };
  return { ok: true, value: { required, forbidden, text: words.join(',') } };
}

export function parseBoolean(text: string): Parsed<boolean> {
  const lower = text.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(lower)) return { ok: true, value: true };
  if (['no', 'false', 'off', '0'].includes(lower)) return { ok: true, value: false };
  return { ok: false, expected: 'yes or no', found: text };
}

export function parseCount(text: string, min: number, max: number): Parsed<number> {
  if (!/^\d{1,9}$/.test(text.trim())) return { ok: false, expected: `a whole number from ${min} to ${max}`, found: text };
  const value = Number(text.trim());
  if (value < min || value > max) return { ok: false, expected: `a whole number from ${min} to ${max}`, found: text };
  return { ok: true, value };
}
