import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Io } from './io';
import { createProgram } from './program';

const root = path.join(__dirname, '..', '..', '..');

/** Every README of the repository that shows `resnet` commands. */
function readmes(): string[] {
  const inFolders = ['packages', 'apps'].flatMap((group) =>
    readdirSync(path.join(root, group)).map((name) => path.join(group, name, 'README.md')),
  );
  return ['README.md', ...inFolders].filter((file) => {
    try {
      return readFileSync(path.join(root, file), 'utf8').includes('resnet ');
    } catch {
      return false;
    }
  });
}

/** The `resnet <command> …` lines of a README's shell blocks, continuation lines joined. */
function commandsIn(file: string): { line: string; command: string; rest: string; flags: string[] }[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const found: { line: string; command: string; rest: string; flags: string[] }[] = [];
  for (const block of blocks) {
    const joined = block.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const match = /(?:^|\s)(?:npx )?resnet (\w+)(.*)$/.exec(line);
      if (!match) continue;
      // Quoted arguments (JSON pipelines, peer commands) are values, not flags.
      const rest = (match[2] as string).replace(/'[^']*'|"[^"]*"/g, 'VALUE');
      const flags = [...rest.matchAll(/(?:^|[\s[])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1] as string);
      found.push({ line, command: match[1] as string, rest, flags });
    }
  }
  return found;
}

const silentIo: Io = {
  stdout: () => {},
  stderr: () => {},
  isTTY: false,
  terminal: process.stderr,
  onInterrupt: () => () => {},
};

function knownFlags(program: Command, name: string, rest: string): Set<string> | undefined {
  let command = program.commands.find((c) => c.name() === name);
  if (!command) return undefined;
  // A subcommand (`scrape worker`): its own flags.
  const sub = /^\s+(\w+)/.exec(rest)?.[1];
  command = command.commands.find((c) => c.name() === sub) ?? command;
  const flags = command.options.flatMap((o) => [o.long, o.negate ? o.long : undefined]);
  return new Set([...flags.filter((f): f is string => f !== undefined), '--help']);
}

describe('README commands', () => {
  const program = createProgram(silentIo, () => {});
  const cases = readmes().flatMap((file) => commandsIn(file).map((c) => [file, c.line, c] as const));

  it('finds the documented commands', () => {
    expect(cases.length).toBeGreaterThan(15);
  });

  it.each(cases)('%s: %s uses real commands and flags', (_file, _line, { command, rest, flags }) => {
    const known = knownFlags(program, command, rest);
    expect(known).toBeDefined();
    expect(flags.filter((flag) => !known?.has(flag))).toEqual([]);
  });
});
