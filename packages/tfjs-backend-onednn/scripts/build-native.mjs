// Builds the oneDNN addon with node-gyp (at install time, only when no prebuilt addon loads).
// Without oneDNN's headers it explains what to install and, at install time (--optional) or outside
// CI, exits 0 so `npm ci` never breaks: selecting the `onednn` backend then fails with the same
// explanation.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--optional');
const required = !optional && (process.env.CI === 'true' || process.env.ONEDNN_REQUIRED === '1');

const HOW_TO =
  'Install oneDNN (Debian/Ubuntu: apt-get install libdnnl-dev; or set DNNL_ROOT to an install prefix) ' +
  'and rebuild with `npm rebuild @resnet-ts/tfjs-backend-onednn`.';

function giveUp(reason) {
  const message = `@resnet-ts/tfjs-backend-onednn: native addon not built: ${reason}. ${HOW_TO}`;
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(`warning: ${message} The 'onednn' backend will be unavailable.`);
  process.exit(0);
}

// Installed from the registry with a prebuilt addon for this platform that loads: nothing to build
// (no compiler, no oneDNN needed). A source build (npm rebuild, npm run build) always builds.
if (optional && prebuiltLoads()) process.exit(0);

function prebuiltLoads() {
  if (!existsSync(join(root, 'prebuilds'))) return false;
  const check = `const p=require('node-gyp-build').path(${JSON.stringify(root)});if(!/prebuilds/.test(p))process.exit(1);require(p)`;
  const result = spawnSync(process.execPath, ['-e', check], {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  return result.status === 0;
}

const includeDirs = [
  process.env.DNNL_ROOT && join(process.env.DNNL_ROOT, 'include'),
  '/usr/include',
  '/usr/local/include',
];
if (!includeDirs.some((dir) => dir && existsSync(join(dir, 'dnnl.hpp'))))
  giveUp('oneDNN headers (dnnl.hpp) not found');

const gyp = process.env.npm_config_node_gyp;
const [command, prefix] = gyp && existsSync(gyp) ? [process.execPath, [gyp]] : ['node-gyp', []];
const action = existsSync(join(root, 'build', 'Makefile')) ? ['build'] : ['rebuild'];
const result = spawnSync(command, [...prefix, ...action, '--jobs', 'max'], { cwd: root, stdio: 'inherit' });
if (result.error) giveUp(`could not run node-gyp (${result.error.message})`);
if (result.status !== 0) giveUp(`node-gyp exited with ${result.status}`);
