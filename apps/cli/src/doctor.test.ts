import { type DoctorReport, diagnose, formatDoctorReport } from './commands/doctor';
import { run } from './program';
import { CLI_VERSION } from './version';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      isTTY: false,
      terminal: process.stderr,
      onInterrupt: () => () => undefined,
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

describe('resnet --version', () => {
  it('prints the package version', async () => {
    const { io, out } = capture();
    expect(await run(['--version'], io)).toBe(0);
    expect(out().trim()).toBe(CLI_VERSION);
    expect(CLI_VERSION).toBe(require('../package.json').version);
  });
});

describe('resnet doctor', () => {
  it('reports every backend with a reason for each one that is unavailable', async () => {
    const report = await diagnose();
    expect(report.backends.map((b) => b.name)).toEqual([
      'cuda',
      'tensorflow-gpu',
      'onednn',
      'tensorflow',
      'wasm',
      'cpu',
    ]);
    for (const backend of report.backends) {
      if (!backend.available) expect(backend.reason).toMatch(/\w{3,}/);
    }
    expect(report.backends.at(-1)).toMatchObject({ name: 'cpu', available: true, trains: false });
    const onednn = report.backends.find((b) => b.name === 'onednn');
    if (onednn?.available) {
      expect(report.trainsOn).toBeDefined();
      expect(report.onednn?.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(report.onednn?.threads).toBeGreaterThan(0);
    } else {
      expect(report.hints.join('\n')).toMatch(/apt-get install -y libdnnl-dev && npm rebuild/);
    }
    expect(report.cacheDir).toMatch(/resnet-ts$/);
  });

  it('prints one line per finding and the fixes last', () => {
    const report: DoctorReport = {
      resnet: '1.2.3',
      node: { version: '18.19.0', supported: false, required: '>=20.18.1' },
      platform: 'linux-x64',
      cpu: { model: 'Test CPU', cores: 2 },
      backends: [
        { name: 'cuda', available: false, reason: 'no usable CUDA GPU: none here', trains: true },
        { name: 'onednn', available: false, reason: 'the native addon was not built', trains: true },
        { name: 'cpu', available: true, trains: false },
      ],
      cudaToolkit: { searched: ['/usr/local/cuda'] },
      cacheDir: '/nonexistent/cache/resnet-ts',
      hints: ['install Node 20.18.1 or newer', 'fast CPU training: apt-get install -y libdnnl-dev'],
    };
    const text = formatDoctorReport(report);
    expect(text).toContain('resnet 1.2.3 on Node 18.19.0 (needs >=20.18.1)');
    expect(text).toMatch(/^ {2}no {2}onednn {9}the native addon was not built$/m);
    expect(text).toMatch(/^ {2}ok {2}cpu /m);
    expect(text).toContain('resnet train --backend auto: no fast backend, it would stop');
    expect(text).toContain('CUDA toolkit: not found (looked in /usr/local/cuda)');
    expect(text).toContain('data cache: /nonexistent/cache/resnet-ts (not created yet)');
    expect(text.trimEnd().split('\n').slice(-3)).toEqual([
      'to fix:',
      '  install Node 20.18.1 or newer',
      '  fast CPU training: apt-get install -y libdnnl-dev',
    ]);
  });

  it('--json prints the report as JSON', async () => {
    const { io, out } = capture();
    expect(await run(['doctor', '--json'], io)).toBe(0);
    const report = JSON.parse(out()) as DoctorReport;
    expect(report.resnet).toBe(CLI_VERSION);
    expect(report.backends).toHaveLength(6);
  });
});
