#!/usr/bin/env node
// Prepares `.gpu-carry/` (git-ignored) for scripts/gpu-check.sh on a lent GPU machine that has no
// Node.js, no node_modules and no network: Node itself (xz), the `resnet` and `resnet-bench` CLIs and
// the CUDA kernel self-test as single CommonJS bundles built from the TypeScript sources, the batch
// worker they start, the CUDA addon when it has been built (found there through RESNET_CUDA_ADDON,
// which gpu-check.sh sets), and sharp (native) as a tar.xz.
//
//   node scripts/gpu/bundle.mjs [--no-node] [--sharp]
//
// --sharp adds sharp (6.4 MiB), which only image folders and `resnet predict` on image files need;
// the GPU check's data is CIFAR-10 binary, and without sharp every command still loads.
//
// Then on the device: run `bash scripts/gpu-check.sh` with carry [".gpu-carry"].
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const carry = path.join(root, '.gpu-carry');
const args = new Set(process.argv.slice(2));
const CUDA = '@resnet-ts/tfjs-backend-cuda';
const ONEDNN = '@resnet-ts/tfjs-backend-onednn';
const CUDA_RELEASE = path.join(root, 'packages', 'tfjs-backend-cuda', 'build', 'Release');
const CUDA_ADDON = path.join(CUDA_RELEASE, 'tfjs_cuda.node');
/** The host-emulation build (RESNET_CUDA_EMULATE=1), small: lets gpu-check.sh dry-run without a GPU. */
const CUDA_EMU_ADDON = path.join(CUDA_RELEASE, 'tfjs_cuda_emu.node');
/** Limit of what a device run carries: the working tree plus the carried paths. */
const CARRY_LIMIT = 64 << 20;

/** `@resnet-ts/<name>` → packages/<name>/src/index.ts, so no dist, node_modules or import.meta is needed. */
function workspaceSource(name) {
  const file = path.join(root, 'packages', name, 'src', 'index.ts');
  return existsSync(file) ? file : undefined;
}

/**
 * Resolves the workspace packages to their sources, routes `sharp` through sharp-shim.cjs (which
 * loads the real one when it resolves beside the bundle).
 */
const workspacePlugin = {
  name: 'workspace',
  setup(b) {
    b.onResolve({ filter: /^@resnet-ts\/[^/]+$/ }, (a) => {
      const name = a.path.slice('@resnet-ts/'.length);
      const file = workspaceSource(name);
      return file ? { path: file } : undefined;
    });
    const shim = path.join(root, 'scripts', 'gpu', 'sharp-shim.cjs');
    b.onResolve({ filter: /^sharp$/ }, (a) =>
      a.importer === shim ? { path: 'sharp', external: true } : { path: shim },
    );
  },
};

/**
 * `@resnet-ts/train` loads backend packages by a computed name (`module.require(name)`), which a
 * bundler cannot see. This preamble answers those names from the copies inside the bundle (one
 * tfjs engine, one kernel registry) before any other code runs; unknown ones fall through to Node.
 */
function preamble(main) {
  const lazy = [ONEDNN, CUDA]
    .map((name) => `  ${JSON.stringify(name)}: () => require(${JSON.stringify(name)}),`)
    .join('\n');
  return `const Module = require('node:module');
const bundled = {
${lazy}
};
const load = Module._load;
Module._load = function (request, ...rest) {
  const get = Object.hasOwn(bundled, request) ? bundled[request] : undefined;
  return get ? get() : load.call(this, request, ...rest);
};
require(${JSON.stringify(main)});
`;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // Loaded at run time when installed, by computed names or try/catch; absent on the GPU machine.
  external: [
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-webgl',
    '*.node',
  ],
  plugins: [workspacePlugin],
  // tfjs-backend-cpu's package.json lists side-effect files that leave out its Node entry, so a bare
  // `import '@tensorflow/tfjs-backend-cpu'` (which registers the backend) would be dropped.
  ignoreAnnotations: true,
  // Smaller carry; names stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: false,
};

async function bundleCli(main, outfile) {
  await build({
    ...common,
    stdin: { contents: preamble(main), resolveDir: root, sourcefile: `${path.basename(outfile)}-entry.js` },
    outfile,
    banner: { js: '#!/usr/bin/env node' },
  });
}

function size(file) {
  return statSync(file).size;
}

function folderSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? folderSize(full) : statSync(full).size;
  }
  return total;
}

/** Bytes of what a device run copies besides the carry: tracked plus untracked-not-ignored files. */
function treeSize() {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    maxBuffer: 64 << 20,
  });
  let total = 0;
  for (const file of out.toString().split('\0').filter(Boolean)) {
    const full = path.join(root, file);
    if (existsSync(full) && statSync(full).isFile()) total += size(full);
  }
  return total;
}

const mib = (bytes) => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

async function main() {
  rmSync(carry, { recursive: true, force: true });
  mkdirSync(carry, { recursive: true });
  // `.js` files in here (the batch worker, cli.js) are CommonJS wherever the folder is copied.
  writeFileSync(path.join(carry, 'package.json'), '{ "type": "commonjs", "private": true }\n');

  await bundleCli(path.join(root, 'apps', 'cli', 'src', 'cli.ts'), path.join(carry, 'resnet.cjs'));
  await bundleCli(path.join(root, 'apps', 'bench', 'src', 'cli.ts'), path.join(carry, 'resnet-bench.cjs'));
  // `resnet-bench throughput` measures each model in a fresh process of the `cli.js` beside it.
  writeFileSync(path.join(carry, 'cli.js'), "#!/usr/bin/env node\nrequire('./resnet-bench.cjs');\n");
  // The training loader starts `batch-worker.js` from the folder of the code that runs it.
  await build({
    ...common,
    entryPoints: [path.join(root, 'packages', 'train', 'src', 'batch-worker.ts')],
    outfile: path.join(carry, 'batch-worker.js'),
  });
  await bundleCli(path.join(root, 'scripts', 'gpu', 'gpu-tests.ts'), path.join(carry, 'gpu-tests.cjs'));

  if (existsSync(CUDA_ADDON)) {
    copyFileSync(CUDA_ADDON, path.join(carry, 'tfjs_cuda.node'));
    console.log(`cuda addon: ${path.relative(root, CUDA_ADDON)} -> .gpu-carry/tfjs_cuda.node`);
  } else {
    console.log(
      `cuda addon: not built (${path.relative(root, CUDA_ADDON)} missing); the GPU steps will fail`,
    );
  }
  if (existsSync(CUDA_EMU_ADDON)) copyFileSync(CUDA_EMU_ADDON, path.join(carry, 'tfjs_cuda_emu.node'));
  // N-API headers (a few hundred KB of Node's 54 MB include folder), so that gpu-check.sh can rebuild
  // the addon with the device's nvcc when the one built here does not load there.
  const headers = path.join(carry, 'headers');
  mkdirSync(headers, { recursive: true });
  const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  const addonApi = path.join(root, 'node_modules', 'node-addon-api');
  for (const [dir, pattern] of [
    [nodeInclude, /^(node_api|js_native_api).*\.h$/],
    [addonApi, /^napi.*\.h$/],
  ]) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => pattern.test(f))) {
      copyFileSync(path.join(dir, file), path.join(headers, file));
    }
  }

  if (args.has('--sharp')) {
    const modules = path.join(root, 'node_modules');
    const wanted = [
      'sharp',
      '@img/sharp-linux-x64',
      '@img/sharp-libvips-linux-x64',
      '@img/colour',
      'detect-libc',
      'semver',
    ];
    const missing = wanted.filter((m) => !existsSync(path.join(modules, m)));
    if (missing.length > 0) console.log(`sharp: left out (missing ${missing.join(', ')} in node_modules)`);
    else {
      execFileSync('sh', [
        '-c',
        `tar -C "${modules}" -cf - ${wanted.join(' ')} | xz -T2 -6 > "${path.join(carry, 'sharp.tar.xz')}"`,
      ]);
    }
  }
  if (!args.has('--no-node')) {
    execFileSync('sh', ['-c', `xz -T2 -6 -c "${process.execPath}" > "${path.join(carry, 'node.xz')}"`]);
    writeFileSync(path.join(carry, 'node.version'), `${process.version}\n`);
  }

  for (const name of readdirSync(carry).sort()) {
    console.log(`  .gpu-carry/${name.padEnd(18)} ${mib(size(path.join(carry, name))).padStart(9)}`);
  }
  const carried = folderSize(carry);
  const tree = treeSize();
  const total = carried + tree;
  console.log(
    `carry ${mib(carried)} + working tree ${mib(tree)} = ${mib(total)} of ${mib(CARRY_LIMIT)}` +
      (total > CARRY_LIMIT * 0.85 ? '  WARNING: too close to the limit' : ''),
  );
  if (total > CARRY_LIMIT) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
