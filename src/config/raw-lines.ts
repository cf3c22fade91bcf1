import { maskRedisUrl } from './redis-url.js';
import type { ConfigProblem } from './problems.js';

// Lines ini would silently take in a surprising way: an unclosed `[section`, keys before any
// section, a section or key given twice (ini merges them), text cut off by a ; or # that ini
// reads as a comment.
export function checkRawLines(text: string, file: string, problems: ConfigProblem[]): void {
  const seenSections = new Map<string, number>();
  let section: string | undefined;
  let keys = new Map<string, number>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const header = /^\[([^\]]+)\]\s*([#;].*)?$/.exec(line);
      if (!header) {
        problems.push({ file, section: '', key: where, expected: 'a section header like [openSSH]', found: line.slice(0, 80) });
        section = '';
      } else {
        section = (header[1] ?? '').trim();
        const first = seenSections.get(section.toLowerCase());
        if (first !== undefined) {
          const expected = section.toLowerCase() === 'options' ? 'one [options] section' : 'each section name once (compared without case)';
          problems.push({ file, section, key: where, expected, found: `[${section}] again (first on line ${first})` });
        } else {
          seenSections.set(section.toLowerCase(), index + 1);
        }
      }
      keys = new Map();
      continue;
    }
    if (section === undefined) {
      problems.push({ file, section: '', key: where, expected: 'a [section] before the first key', found: withoutSecret(line).slice(0, 80) });
      continue;
    }
    checkKeyLine(line, index + 1, section, keys, file, problems);
  }
}

function checkKeyLine(line: string, lineNumber: number, section: string, keys: Map<string, number>, file: string, problems: ConfigProblem[]): void {
  const equals = line.indexOf('=');
  const key = (equals === -1 ? line : line.slice(0, equals)).trim();
  const value = equals === -1 ? '' : line.slice(equals + 1);
  const lower = key.toLowerCase();
  const where = `line ${lineNumber} ${key}`;
  const first = keys.get(lower);
  if (first !== undefined) {
    problems.push({ file, section, key: where, expected: 'each key once in a section', found: `${key} again (first on line ${first})` });
  } else {
    keys.set(lower, lineNumber);
  }
  if (/^(start_command|command|stop_command)(_6)?$/.test(lower)) {
    // ini would cut the command at the ; or # and run the rest: refuse instead.
    const { cut, comment } = commandMarks(value);
    if (cut !== undefined) {
      problems.push({ file, section, key: where, expected: 'a command without ; or # (ini reads them as a comment; put several commands in a script)', found: around(value, cut) });
    } else if (comment !== undefined && value.includes('%IP%', comment)) {
      // The command would run without the address: opened for every address, or closed for none.
      problems.push({ file, section, key: where, expected: '%IP% before the comment (neither ini nor the shell keeps the text after #)', found: around(value, comment) });
    }
  } else if (!/^\s*["']/.test(value) && /[^\s;#][;#]/.test(value)) {
    // A password written into the fleet's Redis URL is refused and never shown.
    problems.push({ file, section, key: where, expected: 'a value without ; or # (ini cuts the value there; put a space before an inline comment)', found: (lower === 'redis' ? maskRedisUrl(value.trim()) : value.trim()).slice(0, 80) });
  }
}

// Where ini cuts a command (its first ; or #), unless that is a # the shell would read as a
// comment too (starting a word, outside quotes): knockd's /bin/sh never ran that text either.
// That # is `comment`.
function commandMarks(value: string): { cut?: number; comment?: number } {
  let quote: string | undefined;
  let wordStart = true;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === ';' || c === '#') return c === '#' && quote === undefined && wordStart ? { comment: i } : { cut: i };
    wordStart = false;
    if (c === '\\' && quote !== "'") i++;
    else if (quote === undefined && /\s/.test(c)) wordStart = true;
    else if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = undefined;
  }
  return {};
}

// The text ini is given: a comment after a section header (`[closeSSH] ; the reverse`) would make
// ini read the whole line as a key of the section before, and the keys after it with it.
export function withoutHeaderComments(text: string): string {
  return text.replace(/^([ \t]*\[[^\]\r\n]+\])[ \t]*[;#][^\r\n]*/gm, '$1');
}

// The text either side of the character at `at`: a long command shown from its start would
// hide the ; that is wrong with it.
function around(text: string, at: number): string {
  const start = Math.max(0, at - 36);
  const end = Math.min(text.length, at + 36);
  return `${start > 0 ? '...' : ''}${text.slice(start, end).trim()}${end < text.length ? '...' : ''}`;
}

// The line with the secrets a `redis = URL` can hold masked (see checkKeyLine).
function withoutSecret(line: string): string {
  const equals = line.indexOf('=');
  return equals > 0 && line.slice(0, equals).trim().toLowerCase() === 'redis' ? `${line.slice(0, equals + 1)} ${maskRedisUrl(line.slice(equals + 1).trim())}` : line;
}
