// A Redis URL as it may be shown (errors, logs, status), whether it is a URL or not: a
// password (between the first ':' after the scheme's '//' and the last '@') and the values of
// a query or a fragment become ***; all that follows the ':' when a '?' or '#' comes before
// that '@' (either may be part of the secret); without a password, a port that is no number
// too (a password whose '@' part ini cut off at a ';' or '#').
export function maskRedisUrl(text: string): string {
  const at = text.lastIndexOf('@');
  const slashes = text.indexOf('//');
  const colon = text.indexOf(':', slashes >= 0 && slashes < at ? slashes + 2 : 0);
  const query = text.slice(slashes < 0 ? 0 : slashes + 2).search(/[?#]/);
  const cut = query < 0 ? text.length : query + (slashes < 0 ? 0 : slashes + 2);
  const userinfo = colon >= 0 && colon < at;
  if (userinfo && cut < at) return `${text.slice(0, colon)}:***`;
  const head = userinfo ? `${text.slice(0, colon)}:***${text.slice(at, cut)}` : withoutOddPort(text.slice(0, cut));
  return head + maskQuery(text.slice(cut));
}

function withoutOddPort(text: string): string {
  const match = /^(.*?\/\/(?:\[[^\]]*\]|[^:/?#[\]]*):)([^/?#]*)(.*)$/s.exec(text);
  return match === null || /^\d*$/.test(match[2] ?? '') ? text : `${match[1] ?? ''}***${match[3] ?? ''}`;
}

// `?name=value&...#fragment` (or ''): the names stay; the values, a part without one and the
// fragment do not.
function maskQuery(tail: string): string {
  const hash = tail.indexOf('#');
  const query = hash < 0 ? tail : tail.slice(0, hash);
  const parts = query.slice(1).split('&').map((part) => (part.includes('=') ? `${part.slice(0, part.indexOf('='))}=***` : part === '' ? '' : '***'));
  return (query === '' ? '' : `?${parts.join('&')}`) + (hash < 0 ? '' : hash === tail.length - 1 ? '#' : '#***');
}
