export type SplitResult = { ok: true; argv: string[] } | { ok: false; reason: string };

// Splits a knockd command line into argv, with '...' and "..." quoting and backslash escapes.
// It runs without a shell, so shell syntax (; | & < > $ `) is refused rather than passed on
// as words that would silently do something else.
export function splitCommand(text: string): SplitResult {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else if (';|&<>$`'.includes(c)) {
      return { ok: false, reason: `shell syntax "${c}" (commands run without a shell; put pipelines and && in a script)` };
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return { ok: false, reason: `an unclosed ${quote}` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, reason: 'an empty command' };
  return { ok: true, argv };
}

// %IP% becomes the grant's address, which was validated long before; nothing else is
// substituted.
export function substituteAddress(argv: readonly string[], address: string): string[] {
  return argv.map((word) => word.replaceAll('%IP%', address));
}
