export interface Output {
  write(text: string): void;
  isTTY?: boolean;
}

export interface CliDeps {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
}

export function line(out: Output, text = ''): void {
  out.write(`${text}\n`);
}
