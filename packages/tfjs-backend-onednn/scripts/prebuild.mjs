// Makes the prebuilt addon that the published package ships (run by `prepack`): the built addon and
// the shared libraries it needs from the build machine (oneDNN and, on Debian, the OpenMP and OpenCL
// loaders oneDNN links against) in prebuilds/<platform>-<arch>/ with their licences, every one
// patched to look beside itself first ($ORIGIN), so `npm i` on the same platform needs neither a
// compiler nor oneDNN. node-gyp-build finds the addon there; a source build in build/Release wins.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build', 'Release', 'onednn.node');
const target = `${process.platform}-${process.arch}`;
const out = join(root, 'prebuilds', target);
// Shipped beside the addon when it links them; the C library, libstdc++ and libgcc are the system's.
const BUNDLED = /^lib(dnnl|gomp|OpenCL)\.so/;

// `prepack` passes --if-built: packing on a machine without oneDNN (a local `npm pack`, attw's check)
// then warns and ships no prebuilt addon; publishing (and CI) never does.
const lenient =
  process.argv.includes('--if-built') && process.env.npm_command !== 'publish' && process.env.CI !== 'true';

function fail(message) {
  if (lenient) {
    console.warn(`prebuild: warning: packing without a prebuilt addon: ${message}`);
    process.exit(0);
  }
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

// After packing: the prebuilt files are in the tarball; a checkout keeps using its own build.
if (process.argv.includes('--clean')) {
  rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
  process.exit(0);
}

if (process.platform !== 'linux') fail(`only linux prebuilds are made (this is ${target})`);
if (!existsSync(built))
  fail(`${built} is missing: build the addon first (apt-get install libdnnl-dev, then npm run build)`);
try {
  execFileSync('patchelf', ['--version'], { stdio: 'ignore' });
} catch {
  fail('patchelf is needed to make the prebuilt addon look beside itself (apt-get install patchelf)');
}

/** soname → path of each shared library `file` loads, as the loader resolves it here. */
function sharedLibraries(file) {
  const libraries = new Map();
  for (const line of execFileSync('ldd', [file], { encoding: 'utf8' }).split('\n')) {
    const match = /^\s*(\S+) => (\/\S+)/.exec(line);
    if (match) libraries.set(match[1], match[2]);
  }
  return libraries;
}

/** The Debian copyright file of the package that owns `file`, if dpkg knows it. */
function licenceOf(file) {
  try {
    const owner = execFileSync('dpkg', ['-S', realpathSync(file)], { encoding: 'utf8' }).split(':')[0];
    const copyright = `/usr/share/doc/${owner}/copyright`;
    return existsSync(copyright) ? { owner, copyright } : undefined;
  } catch {
    return undefined;
  }
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bundled = [...sharedLibraries(built)].filter(([soname]) => BUNDLED.test(soname));
if (!bundled.some(([soname]) => soname.startsWith('libdnnl')))
  fail(`${built} does not link libdnnl: not the oneDNN addon?`);

const files = [];
const licences = [];
const addonName = 'node.napi.glibc.node';
for (const [soname, path] of [...bundled, ['onednn.node', built]]) {
  const name = soname === 'onednn.node' ? addonName : soname;
  const copy = join(out, name);
  copyFileSync(realpathSync(path), copy);
  execFileSync('patchelf', ['--set-rpath', '$ORIGIN', copy]);
  files.push({
    file: name,
    from: realpathSync(path),
    sha256: createHash('sha256').update(readFileSync(copy)).digest('hex'),
  });
  const licence = soname === 'onednn.node' ? undefined : licenceOf(path);
  if (licence) {
    const licenceFile = `LICENSE.${soname.split('.so')[0]}.txt`;
    // Debian's copyright files point at /usr/share/common-licenses for full texts: ship those too.
    const text = readFileSync(licence.copyright, 'utf8');
    const referenced = [
      ...new Set([...text.matchAll(/\/usr\/share\/common-licenses\/([\w.+-]+)/g)].map((m) => m[1])),
    ];
    const texts = referenced
      .map((name) => join('/usr/share/common-licenses', name))
      .filter(existsSync)
      .map((file) => `\n\n==> ${file} <==\n\n${readFileSync(file, 'utf8')}`);
    writeFileSync(join(out, licenceFile), text + texts.join(''));
    licences.push({ library: soname, package: licence.owner, file: licenceFile });
  } else if (soname !== 'onednn.node') {
    fail(`no licence found for ${path} (dpkg -S ${path}): refusing to ship it without one`);
  }
}

/** The newest glibc and libstdc++ symbol versions the shipped files need: the oldest system they run on. */
function newestSymbolVersions() {
  const newest = {};
  for (const { file } of files) {
    const symbols = execFileSync('objdump', ['-T', join(out, file)], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    for (const [, name, version] of symbols.matchAll(/\b(GLIBC|GLIBCXX)_([\d.]+)/g)) {
      const parts = (v) => v.split('.').map(Number);
      const later = (a, b) => {
        const [x, y] = [parts(a), parts(b)];
        for (let i = 0; i < Math.max(x.length, y.length); i++)
          if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
        return false;
      };
      if (!newest[name] || later(version, newest[name])) newest[name] = version;
    }
  }
  return newest;
}

const oneDnnVersion = (() => {
  const header = ['/usr/include/oneapi/dnnl/dnnl_version.h', '/usr/include/dnnl_version.h'].find(existsSync);
  if (!header) return undefined;
  const text = readFileSync(header, 'utf8');
  const part = (name) => new RegExp(`#define DNNL_VERSION_${name}\\s+(\\d+)`).exec(text)?.[1];
  return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
})();
writeFileSync(
  join(out, 'manifest.json'),
  `${JSON.stringify(
    {
      target,
      libc: 'glibc',
      builtWith: execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim(),
      needs: newestSymbolVersions(),
      oneDnn: oneDnnVersion,
      addon: addonName,
      files,
      licences,
    },
    null,
    2,
  )}\n`,
);
// stderr: `npm pack --json` prints its JSON on stdout.
console.error(
  `prebuild: ${target}: ${files.map((f) => basename(f.file)).join(', ')} with ${licences.length} licences (oneDNN ${oneDnnVersion ?? '?'})`,
);
