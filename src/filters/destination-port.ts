// What portKey answers for a line whose first ` DPT=` names a port no door or trap uses.
export const OTHER_PORT_KEY = -2;

// Where the line's first ` DPT=` is (its D; -1 for none), or OTHER_PORT_KEY when the port it
// names has entry 0 in `ports` (no door or trap uses it, TCP or UDP): such a LOG line cannot
// change a decision and is not parsed further.
export function portKey(line: string, ports: Uint8Array): number {
  // Found by its rarer `D` rather than by the space.
  let at = line.indexOf('DPT=');
  while (at !== -1 && line.charCodeAt(at - 1) !== 32) at = line.indexOf('DPT=', at + 1);
  if (at <= 0) return at;
  const start = at + 4;
  let end = start;
  let port = 0;
  for (let c = line.charCodeAt(end); c >= 48 && c <= 57; c = line.charCodeAt(++end)) port = port * 10 + (c - 48);
  return end === start || port > 65535 || ports[port] !== 0 ? at : OTHER_PORT_KEY;
}
