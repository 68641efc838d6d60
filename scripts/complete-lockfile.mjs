// The registry mirror used here serves only Linux builds of platform-specific optional packages
// (esbuild, swc, biome, rollup, turbo …), so `npm install` leaves them out of package-lock.json and
// `npm ci` then rejects the lock as out of sync. This adds a stub entry (version, optional, os, cpu,
// libc) for each missing one, as a lock written on an unrestricted registry would have: npm skips
// them on other platforms without fetching. Run after every `npm install` that changes the lock.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const OSES = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'netbsd',
  'openbsd',
  'openharmony',
  'sunos',
  'win32',
  'aix',
  'cygwin',
];
const CPUS = [
  'arm64',
  'x64',
  'ia32',
  'arm',
  'ppc64',
  's390x',
  'riscv64',
  'loong64',
  'mips64el',
  'wasm32',
  'universal',
];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OSES.find((o) => parts.includes(o) || (o === 'win32' && parts.includes('windows')));
  const cpu = CPUS.find(
    (c) =>
      parts.includes(c) || (c === 'x64' && parts.includes('64')) || (c === 'arm' && parts.includes('armv7')),
  );
  const libc = parts.some((p) => p.startsWith('musl'))
    ? 'musl'
    : parts.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  return { os, cpu, libc };
}

const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`];
    if (candidates.some((p) => lock.packages[p])) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os) continue; // not a platform package: leave it to npm
    const version = range.replace(/^[\^~=]/, '');
    lock.packages[`node_modules/${dep}`] = {
      version,
      optional: true,
      ...(cpu && cpu !== 'universal' ? { cpu: [cpu] } : {}),
      os: [os],
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(`${LOCK.pathname}.tmp`, `${JSON.stringify(lock, null, 2)}\n`);
renameSync(`${LOCK.pathname}.tmp`, LOCK.pathname);
console.log(`complete-lockfile: added ${added} platform stub entries`);
