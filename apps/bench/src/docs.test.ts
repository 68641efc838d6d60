import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createProgram } from './program';

const root = path.join(__dirname, '..', '..', '..');

/**
 * Every `resnet-bench <command> …` shown in a README — in shell blocks (continuation lines joined)
 * and in inline code — with the flags it passes. Quoted arguments (peer commands) are values.
 */
function documentedCommands(): { file: string; line: string; command: string; flags: string[] }[] {
  const files = [
    'README.md',
    ...['packages', 'apps'].flatMap((group) =>
      readdirSync(path.join(root, group)).map((name) => path.join(group, name, 'README.md')),
    ),
  ];
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      return [];
    }
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
      (m[1] as string).replace(/\\\n\s*/g, ' '),
    );
    const inline = [...text.matchAll(/`([^`\n]*resnet-bench [^`\n]*)`/g)].map((m) => m[1] as string);
    return [...blocks.flatMap((block) => block.split('\n')), ...inline].flatMap((raw) => {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const match = /(?:^|\s)(?:npx )?resnet-bench (\w+)(.*)$/.exec(line);
      if (!match) return [];
      const rest = (match[2] as string).replace(/'[^']*'|"[^"]*"/g, 'VALUE');
      const flags = [...rest.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((m) => m[1] as string);
      return [{ file, line, command: match[1] as string, flags }];
    });
  });
}

describe('README commands of resnet-bench', () => {
  const program = createProgram(
    () => {},
    () => {},
  );
  const cases = documentedCommands().map((c) => [c.file, c.line, c] as const);

  it('finds the documented commands', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases)('%s: %s uses real commands and flags', (_file, _line, { command, flags }) => {
    const known = program.commands.find((c) => c.name() === command);
    expect(known).toBeDefined();
    const longFlags = new Set([...(known?.options ?? []).map((o) => o.long), '--help']);
    expect(flags.filter((flag) => !longFlags.has(flag))).toEqual([]);
  });
});
