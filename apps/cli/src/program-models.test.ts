import { buildResNet, countParams, MODEL_NAMES } from '@resnet-ts/resnet-core';
import type { Io } from './io';
import { run } from './program';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    terminal: process.stderr,
    onInterrupt: () => () => {},
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('model names in the CLI (from resnet-core)', () => {
  it.each(['train', 'summary'])(
    '%s --help lists every model name, resnet10 and resnet200 included',
    async (command) => {
      const help = capture();
      expect(await run([command, '--help'], help.io)).toBe(0);
      const text = help.out().replace(/\s+/g, ' ');
      for (const name of ['resnet10', 'resnet200', 'resnet<9n+2>', ...MODEL_NAMES])
        expect(text).toContain(name);
    },
  );

  it('summary takes a 9n+2 bottleneck depth, at the CIFAR input and classes', async () => {
    const io = capture();
    const args = ['summary', '--model', 'resnet29', '--model-options', '{"block":"bottleneck"}', '--json'];
    expect(await run(args, io.io)).toBe(0);
    const summary = JSON.parse(io.out());
    const reference = buildResNet({
      depth: 29,
      block: 'bottleneck',
      numClasses: 10,
      inputShape: [32, 32, 3],
    });
    expect(summary).toMatchObject({ model: 'resnet29', input: 32, params: countParams(reference) });
    reference.dispose();
  });

  it('summary refuses a bottleneck depth without the block, naming the accepted names', async () => {
    const io = capture();
    expect(await run(['summary', '--model', 'resnet29'], io.io)).toBe(1);
    expect(io.err()).toMatch(
      /^resnet: model: resnet29: depth: cifar depth must be 6n\+2 .*; accepted: .*resnet<9n\+2> with block 'bottleneck'/,
    );
  });
});
