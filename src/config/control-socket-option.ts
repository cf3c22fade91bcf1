import { DEFAULT_CONTROL_SOCKET } from './defaults.js';
import { readSections } from './flatten-sections.js';
import { parseSocketPath, readConfigText } from './load-config.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { SectionReader } from './section-reader.js';

// Only control_socket of [options], for the commands that talk to a running daemon: a config
// in the middle of an edit (a door half written) must not keep status, unban and close from
// reaching the daemon that runs the previous one. A bad control_socket itself is refused.
export function readControlSocket(path: string): string {
  const text = readConfigText(path);
  const problems: ConfigProblem[] = [];
  let socket = DEFAULT_CONTROL_SOCKET;
  for (const [name, values] of readSections(text)) {
    if (name.toLowerCase() !== 'options') continue;
    const found: ConfigProblem[] = [];
    socket = new SectionReader(path, name, values, found).parse('control_socket', parseSocketPath, DEFAULT_CONTROL_SOCKET);
    problems.push(...found.filter((problem) => problem.key.toLowerCase() === 'control_socket'));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return socket;
}
