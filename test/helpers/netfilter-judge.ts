import { loadFilterFile, type Filter } from '../../src/filters/load-filter.js';
import { buildEvent, createLineParser } from '../../src/filters/parse-line.js';
import { createSyslogTimeParser } from '../../src/filters/syslog-time.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

// filters/netfilter.conf as shipped, with the time parser the netfilter tests share.
export const netfilter = loadFilterFile(builtinFilterPath('netfilter'));
const reference = Date.parse('2026-12-31T00:00:00Z');
export const timeParser = () => createSyslogTimeParser({ timeZone: 'UTC', reference });
// The parser as the daemon and replay use it (scanner and templates first), and the regexes
// alone: a builder of its own turns the scanner off.
export const withScanner = (chosen: Filter = netfilter) => createLineParser(chosen, timeParser());
export const regexOnly = (chosen: Filter = netfilter) => createLineParser(chosen, timeParser(), (...args) => buildEvent(...args));
// The ports the samples' doors use (TCP or UDP alike, as the pipeline's table is).
export const doorPorts = new Uint8Array(65536);
for (const port of [22, 7000, 8000, 9000]) doorPorts[port] = 1;
// The pre-filter as the pipeline applies it, without scanner or templates: a line whose first
// ` DPT=` holds a port no door uses is not parsed; the regexes read the rest.
export const judgedByRegex = (line: string) => {
  const port = / DPT=(\d*)/.exec(line)?.[1];
  const unused = port !== undefined && port !== '' && Number(port) <= 65535 && doorPorts[Number(port)] === 0;
  return unused ? { status: 'otherPort' } : regexOnly()(line);
};

// `text` with `edits` random edits: a cut of 1 to 3 characters, one of `pieces` put in or put
// over a character, or the rest cut off.
export function mutateText(text: string, edits: number, random: (n: number) => number, pieces: readonly string[]): string {
  let out = text;
  for (let left = edits; left > 0; left--) {
    const at = random(out.length + 1);
    const op = random(4);
    if (op === 0) out = out.slice(0, at) + out.slice(at + 1 + random(3));
    else if (op === 1) out = out.slice(0, at) + (pieces[random(pieces.length)] ?? '') + out.slice(at);
    else if (op === 2) out = out.slice(0, at) + (pieces[random(pieces.length)] ?? '') + out.slice(at + 1);
    else out = out.slice(0, at);
  }
  return out;
}
