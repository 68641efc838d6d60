import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The published package as a consumer gets it: packed (prepack makes the prebuilt addon with
// oneDNN's libraries beside it), installed into a scratch project offline, then loaded with the
// system's oneDNN, OpenMP and OpenCL libraries masked (bind-mounted over by /dev/null in a private
// mount namespace), no compiler (CC/CXX=false) and no oneDNN headers needed.
const packageDir = path.resolve(__dirname, '..');
const repoRoot = path.resolve(packageDir, '../..');
const built = path.join(packageDir, 'build', 'Release', 'onednn.node');
const SYSTEM_LIBRARIES = ['libdnnl.so.2', 'libgomp.so.1', 'libOpenCL.so.1'].map((name) =>
  path.join('/usr/lib/x86_64-linux-gnu', name),
);

function missingPrerequisite(): string | undefined {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') return 'prebuilds are made for linux-x64 only';
  if (!existsSync(built)) return `the addon is not built (${built})`;
  if (spawnSync('patchelf', ['--version']).status !== 0)
    return 'patchelf is not installed (apt-get install patchelf)';
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true')
  throw new Error(`prebuilt addon test cannot run under CI: ${missing}`);
if (missing) console.warn(`skipping the prebuilt-addon test: ${missing}`);

/** Whether this process may make a private mount namespace (root in most containers and CI). */
const canMask =
  spawnSync('unshare', ['--mount', 'true']).status === 0 && SYSTEM_LIBRARIES.every((lib) => existsSync(lib));

/** Runs `command` in bash, with the system's copies of the bundled libraries masked when possible. */
function runMasked(command: string, cwd: string, env: NodeJS.ProcessEnv = {}) {
  const mounts = SYSTEM_LIBRARIES.map((lib) => `mount --bind /dev/null "$(readlink -f ${lib})"`).join(' && ');
  const script = canMask ? `${mounts} && ${command}` : command;
  const args = canMask ? ['--mount', 'bash', '-c', script] : ['-c', script];
  return spawnSync(canMask ? 'unshare' : 'bash', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CC: '/bin/false', CXX: '/bin/false', DNNL_ROOT: '/nonexistent', ...env },
  });
}

(missing ? describe.skip : describe)('the packed package with its prebuilt addon', () => {
  let dir: string;
  let tarball: string;
  let installed: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'onednn-prebuilt-'));
    // Packed from a copy, so concurrent builds and packs of the package itself are not disturbed.
    const copy = path.join(dir, 'package');
    mkdirSync(copy);
    for (const entry of ['package.json', 'LICENSE', 'README.md', 'binding.gyp', 'dist', 'native', 'scripts'])
      cpSync(path.join(packageDir, entry), path.join(copy, entry), { recursive: true });
    mkdirSync(path.join(copy, 'build', 'Release'), { recursive: true });
    cpSync(built, path.join(copy, 'build', 'Release', 'onednn.node'));
    const pack = (from: string) =>
      path.join(
        dir,
        (
          JSON.parse(
            execFileSync('npm', ['pack', from, '--json', '--pack-destination', dir], {
              cwd: dir,
              encoding: 'utf8',
              env: { ...process.env, CI: 'true' }, // a failing prebuild fails the pack
            }),
          ) as { filename: string }[]
        )[0]?.filename as string,
      );
    tarball = pack(copy);
    // Its own dependencies (this project's packages among them, which are not on the registry
    // here), packed from this checkout, so the install needs no registry.
    const { dependencies: needed } = JSON.parse(
      readFileSync(path.join(packageDir, 'package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
    };
    const dependencies = Object.keys(needed).map((name) =>
      pack(path.dirname(require.resolve(`${name}/package.json`, { paths: [packageDir] }))),
    );
    const app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), '{"name":"scratch","version":"1.0.0","private":true}\n');
    const install = runMasked(
      `npm install --offline --no-audit --no-fund --legacy-peer-deps ${[tarball, ...dependencies].join(' ')}`,
      app,
    );
    if (install.status !== 0) throw new Error(`npm install failed: ${install.stderr}`);
    installed = path.join(app, 'node_modules', '@resnet-ts', 'tfjs-backend-onednn');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships the addon, oneDNN and the libraries it loads, each with its licence, and no source build', () => {
    const files = readdirSync(path.join(installed, 'prebuilds', 'linux-x64')).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE.libdnnl.txt',
        'LICENSE.libgomp.txt',
        'LICENSE.libOpenCL.txt',
        'libOpenCL.so.1',
        'libdnnl.so.2',
        'libgomp.so.1',
        'manifest.json',
        'node.napi.glibc.node',
      ]),
    );
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
    for (const file of ['node.napi.glibc.node', 'libdnnl.so.2'])
      expect(
        execFileSync('readelf', ['-d', path.join(installed, 'prebuilds/linux-x64', file)], {
          encoding: 'utf8',
        }),
      ).toMatch(/RUNPATH.*\[\$ORIGIN\]/);
  });

  it('its install script finds the prebuilt addon and builds nothing (no compiler, no headers)', () => {
    const result = runMasked('node scripts/build-native.mjs --optional', installed);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
  });

  it('loads and computes with the shipped oneDNN while the system copies are masked', () => {
    const check = `
      const fs = require('node:fs');
      const tf = require('@tensorflow/tfjs-core');
      const onednn = require('@resnet-ts/tfjs-backend-onednn');
      (async () => {
        const reason = onednn.unavailableReason();
        if (reason) throw new Error(reason);
        await tf.setBackend('onednn');
        const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
        const libraries = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
          .map((line) => line.split(/\\s+/)[5]).filter((p) => p && /lib(dnnl|gomp|OpenCL)\\.so/.test(p));
        console.log(JSON.stringify({ addon: onednn.addonLocation(), version: onednn.oneDnnVersion(),
          backend: tf.getBackend(), product: Array.from(product), libraries: [...new Set(libraries)] }));
      })().catch((error) => { console.error(error.message); process.exit(1); });`;
    const app = path.join(dir, 'app');
    writeFileSync(path.join(app, 'check.cjs'), check);
    // tfjs itself (a peer dependency) from this checkout.
    const result = runMasked('node check.cjs', app, { NODE_PATH: path.join(repoRoot, 'node_modules') });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as {
      addon: string;
      version: string;
      backend: string;
      product: number[];
      libraries: string[];
    };
    expect(report.addon).toBe(path.join(installed, 'prebuilds/linux-x64/node.napi.glibc.node'));
    expect(report.backend).toBe('onednn');
    expect(report.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.product).toEqual([19, 22, 43, 50]);
    expect(report.libraries.length).toBeGreaterThanOrEqual(2);
    for (const library of report.libraries) expect(library.startsWith(installed)).toBe(true);
    if (process.env.CI === 'true') expect(canMask).toBe(true); // CI proves it with the system copies masked
  });
});
