// Builds the CUDA addon with nvcc (build/Release/tfjs_cuda.node) and, with --emulation, the host
// emulation addon with g++ (tfjs_cuda_emu.node: the same kernels as plain loops, for tests on
// machines without a GPU). Without a CUDA toolkit it explains what to install and, at install time
// (--optional) or outside CI, exits 0 so `npm ci` never breaks; selecting the `cuda` backend then
// fails with the same explanation. Rebuilds only when a source, a flag or the compiler changed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const outDir = join(root, 'build', 'Release');
const objDir = join(root, 'build', 'obj');
const optional = process.argv.includes('--optional');
const emulation = process.argv.includes('--emulation');
const required = !optional && (process.env.CI === 'true' || process.env.CUDA_REQUIRED === '1');

const HOW_TO =
  'Install the CUDA toolkit (12.x or 13.x: nvcc and cudart; set CUDA_HOME if it is not in /usr/local/cuda) ' +
  'and rebuild with `npm rebuild @resnet-ts/tfjs-backend-cuda`.';

function fail(reason) {
  const message = `@resnet-ts/tfjs-backend-cuda: native addon not built: ${reason}. ${HOW_TO}`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(`warning: ${message} The 'cuda' backend will be unavailable.`);
}

function nodeIncludeDir() {
  const candidates = [
    process.env.RESNET_NODE_API_INCLUDE,
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ];
  return candidates.find((dir) => dir && existsSync(join(dir, 'node_api.h')));
}

function findNvcc() {
  const homes = [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda'].filter(Boolean);
  for (const home of homes) {
    const nvcc = join(home, 'bin', 'nvcc');
    if (existsSync(nvcc)) return nvcc;
  }
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

/** Runs commands at most `jobs` at a time; rejects with the first failure's output. */
async function runAll(commands, jobs = Math.max(1, Math.min(availableParallelism(), 8))) {
  const queue = [...commands];
  const worker = async () => {
    while (queue.length > 0) {
      const [cmd, args] = queue.shift();
      await new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('close', (code) => {
          if (stderr.trim()) process.stderr.write(stderr);
          if (code === 0) resolve();
          else reject(new Error(`${cmd} ${args.at(-1)} exited with ${code}`));
        });
      });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}

function stampOf(parts) {
  const hash = createHash('sha256');
  for (const file of readdirSync(nativeDir).sort())
    hash.update(file).update(readFileSync(join(nativeDir, file)));
  for (const part of parts) hash.update(String(part));
  return hash.digest('hex');
}

async function build({ name, compilerFor, compileArgs, link, toolVersion }) {
  const target = join(outDir, `${name}.node`);
  const stampFile = join(outDir, `${name}.stamp`);
  const stamp = stampOf([...compileArgs('x'), ...link('x', []), toolVersion]);
  if (existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    console.log(`${name}.node is up to date`);
    return;
  }
  mkdirSync(join(objDir, name), { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const sources = readdirSync(nativeDir).filter((f) => f.endsWith('.cu') || f.endsWith('.cc'));
  const objects = sources.map((f) => join(objDir, name, `${f}.o`));
  await runAll(
    sources.map((f, i) => [compilerFor(f), [...compileArgs(f), '-c', '-o', objects[i], join(nativeDir, f)]]),
  );
  const temp = `${target}.tmp`;
  const [linker, linkArgs] = link(temp, objects);
  await runAll([[linker, linkArgs]], 1);
  renameSync(temp, target);
  writeFileSync(stampFile, stamp);
  console.log(`built ${target}`);
}

const nodeInclude = nodeIncludeDir();
const require = createRequire(import.meta.url);
let addonApiInclude;
try {
  addonApiInclude = require('node-addon-api').include_dir;
} catch {
  // A folder holding node_api.h and napi.h together (what scripts/gpu/bundle.mjs carries).
  const dir = process.env.RESNET_NODE_API_INCLUDE;
  addonApiInclude = dir && existsSync(join(dir, 'napi.h')) ? dir : undefined;
}
const defines = [
  '-DNAPI_VERSION=8',
  '-DNODE_ADDON_API_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
];
const hostFlags = ['-std=c++17', '-O3', '-fPIC', '-fexceptions', '-Wall', '-Wno-unused-function'];

let failed = false;
if (!nodeInclude || !addonApiInclude) {
  fail(!nodeInclude ? "Node's headers (node_api.h) not found" : 'node-addon-api is not installed');
  failed = true;
}

if (!failed) {
  const includes = [`-I${nodeInclude}`, `-I${addonApiInclude}`, `-I${nativeDir}`];
  const gxx = process.env.CXX || 'g++';
  const gxxVersion = spawnSync(gxx, ['--version'], { encoding: 'utf8' }).stdout ?? '';

  const nvcc = findNvcc();
  if (!nvcc) {
    fail('nvcc not found (looked in CUDA_HOME, CUDA_PATH, /usr/local/cuda and PATH)');
  } else {
    const nvccVersion = spawnSync(nvcc, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    // Machine code for Ampere (sm_80) and Hopper (sm_90), PTX for newer GPUs to compile at load.
    const arch = [
      '-gencode=arch=compute_80,code=sm_80',
      '-gencode=arch=compute_90,code=sm_90',
      '-gencode=arch=compute_90,code=compute_90',
    ];
    try {
      await build({
        name: 'tfjs_cuda',
        toolVersion: nvccVersion + gxxVersion,
        compilerFor: (file) => (file.endsWith('.cu') ? nvcc : gxx),
        compileArgs: (file) =>
          file.endsWith('.cu')
            ? [
                '-std=c++17',
                '-O3',
                '--extended-lambda',
                '-Xcompiler',
                '-fPIC',
                ...arch,
                ...includes,
                ...defines,
              ]
            : [...hostFlags, ...includes, ...defines],
        link: (out, objects) => [
          nvcc,
          ['-shared', ...arch, '-cudart', 'static', '-o', out, ...objects, '-ldl', '-lpthread', '-lrt'],
        ],
      });
    } catch (error) {
      fail(`nvcc build failed (${error.message})`);
    }
  }

  if (emulation) {
    try {
      await build({
        name: 'tfjs_cuda_emu',
        toolVersion: gxxVersion,
        compilerFor: () => gxx,
        compileArgs: (file) => [
          ...(file.endsWith('.cu') ? ['-x', 'c++'] : []),
          ...hostFlags,
          ...includes,
          ...defines,
        ],
        link: (out, objects) => [gxx, ['-shared', '-o', out, ...objects]],
      });
    } catch (error) {
      console.error(`@resnet-ts/tfjs-backend-cuda: emulation addon not built: ${error.message}`);
      process.exit(1);
    }
  }
}
