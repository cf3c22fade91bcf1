import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile } from '../../src/text/replace-file.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-replace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const temporary = (name: string): string => join(dir, `.${name}.knockwatch-${process.pid}`);

describe('replaceFile', () => {
  it('puts a new file (a new inode) in place with the mode asked for, leaving nothing beside it', () => {
    const path = join(dir, 'f');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const before = statSync(path).ino;
    replaceFile(path, 'new\n', { mode: 0o600 });
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(statSync(path).ino).not.toBe(before);
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('removes a stale temporary file or a symbolic link at its name, never writing through it', () => {
    const path = join(dir, 'f');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep\n');
    symlinkSync(victim, temporary('f'));
    replaceFile(path, 'new\n', { mode: 0o600 });
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(dir).sort()).toEqual(['f', 'victim']);
  });

  it('throws when the rename fails, leaving the old content and no temporary file', () => {
    const path = join(dir, 'd');
    mkdirSync(path);
    expect(() => replaceFile(path, 'new\n', { mode: 0o600 })).toThrow();
    expect(statSync(path).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(['d']);
  });
});
