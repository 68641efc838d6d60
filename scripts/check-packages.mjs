// Packaging rules every workspace follows, checked on the sources (`npm run check-packages`, part of
// `npm test`):
// - every published workspace (not `private`) is MIT, has the root's LICENSE, and `npm pack` ships it;
// - every internal dependency (`@resnet-ts/*`, in any dependency field) is a caret range that the
//   workspace's own version satisfies (so `npm ci` links the workspace, and changesets rewrites the
//   range on release), never `*` or `workspace:`;
// - one `engines.node` for the root and every workspace;
// - changesets versions the published workspaces, leaves the private ones alone, and rewrites
//   internal ranges (`updateInternalDependencies`); its README names what is published;
// - the package arrows agree with docs/architecture.md (allowed runtime arrows, forbidden ones).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const readJson = (file) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));
const problems = [];
const fail = (message) => problems.push(message);

const rootPkg = readJson('package.json');
const workspaces = rootPkg.workspaces
  .flatMap((pattern) => {
    const dir = pattern.replace(/\/\*$/, '');
    return readdirSync(path.join(root, dir)).map((name) => `${dir}/${name}`);
  })
  .filter((dir) => existsSync(path.join(root, dir, 'package.json')))
  .map((dir) => ({ dir, pkg: readJson(`${dir}/package.json`) }));
const versions = new Map(workspaces.map(({ pkg }) => [pkg.name, pkg.version]));
const published = workspaces.filter(({ pkg }) => !pkg.private);

// Licence.
const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
if (!/^MIT License\n\nCopyright \(c\) \d{4} resnet-ts contributors\n/.test(license)) {
  fail('LICENSE: expected the MIT licence, "Copyright (c) <year> resnet-ts contributors"');
}
if (rootPkg.license !== 'MIT') fail(`package.json: license is ${rootPkg.license}, expected MIT`);
for (const { dir, pkg } of published) {
  if (pkg.license !== 'MIT') fail(`${dir}/package.json: license is ${pkg.license}, expected MIT`);
  const file = path.join(root, dir, 'LICENSE');
  if (!existsSync(file)) fail(`${dir}/LICENSE: missing (copy the root LICENSE)`);
  else if (readFileSync(file, 'utf8') !== license) fail(`${dir}/LICENSE: differs from the root LICENSE`);
}
const packed = JSON.parse(
  execFileSync(
    'npm',
    ['pack', '--dry-run', '--ignore-scripts', '--json', ...published.flatMap(({ dir }) => ['-w', dir])],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ),
);
for (const { dir, pkg } of published) {
  const tarball = packed.find((entry) => entry.name === pkg.name);
  if (!tarball) fail(`${dir}: npm pack --dry-run did not pack ${pkg.name}`);
  else if (!tarball.files.some((f) => f.path === 'LICENSE')) fail(`${dir}: npm pack leaves LICENSE out`);
}

// Internal dependency ranges.
const parse = (version) => /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(version)?.slice(1);
/** Whether caret range `^base` admits `version` (npm semantics; a prerelease only of the same x.y.z). */
function caretAdmits(base, version) {
  const [b, v] = [parse(base), parse(version)];
  if (!b || !v) return false;
  const [bm, bn, bp] = b.slice(0, 3).map(Number);
  const [vm, vn, vp] = v.slice(0, 3).map(Number);
  if (v[3]) return vm === bm && vn === bn && vp === bp;
  if ((vm - bm || vn - bn || vp - bp) < 0) return false;
  if (bm > 0) return vm === bm;
  if (bn > 0) return vm === 0 && vn === bn;
  return vm === 0 && vn === 0 && vp === bp;
}
const FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
for (const { dir, pkg } of [{ dir: '.', pkg: rootPkg }, ...workspaces]) {
  for (const field of FIELDS) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (!name.startsWith('@resnet-ts/')) continue;
      const where = `${dir}/package.json ${field}.${name}`;
      const version = versions.get(name);
      if (version === undefined) fail(`${where}: no workspace is named ${name}`);
      else if (!range.startsWith('^') || !caretAdmits(range.slice(1), version)) {
        fail(
          `${where}: "${range}" must be a caret range admitting the workspace's ${version} (e.g. "^${version}")`,
        );
      }
    }
  }
}

// Package arrows: docs/architecture.md lists the allowed runtime arrows and the forbidden ones.
const architecture = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
const arrowsIn = (kind) =>
  [...architecture.matchAll(new RegExp(`\`\`\`${kind}\n([\\s\\S]*?)\`\`\``, 'g'))]
    .flatMap((m) => m[1].trim().split('\n'))
    .map((line) => line.split('->').map((side) => side.trim()));
const allowed = new Set(arrowsIn('arrows').map(([from, to]) => `${from} -> ${to}`));
const forbidden = arrowsIn('forbidden');
if (allowed.size === 0 || forbidden.length === 0)
  fail('docs/architecture.md: no arrows or forbidden block found');
const RUNTIME = ['dependencies', 'peerDependencies', 'optionalDependencies'];
for (const { dir, pkg } of workspaces) {
  for (const field of FIELDS) {
    for (const name of Object.keys(pkg[field] ?? {}).filter((n) => n.startsWith('@resnet-ts/'))) {
      const arrow = `${pkg.name} -> ${name}`;
      if (RUNTIME.includes(field) && !allowed.has(arrow)) {
        fail(
          `${dir}/package.json ${field}.${name}: ${arrow} is not an allowed arrow in docs/architecture.md`,
        );
      }
      const match = (pattern, value) => pattern === '*' || pattern === value;
      if (forbidden.some(([from, to]) => match(from, pkg.name) && match(to, name))) {
        fail(`${dir}/package.json ${field}.${name}: ${arrow} is forbidden by docs/architecture.md`);
      }
    }
  }
}
for (const arrow of allowed) {
  const [from, to] = arrow.split(' -> ');
  const pkg = workspaces.find((w) => w.pkg.name === from)?.pkg;
  if (!pkg || !RUNTIME.some((field) => pkg[field]?.[to])) {
    fail(`docs/architecture.md: allows ${arrow}, which no package.json has (keep the document true)`);
  }
}

// Engines.
const engines = rootPkg.engines?.node;
if (!engines) fail('package.json: engines.node is missing');
for (const { dir, pkg } of workspaces) {
  if (pkg.engines?.node !== engines) {
    fail(
      `${dir}/package.json: engines.node is ${JSON.stringify(pkg.engines?.node)}, the root says "${engines}"`,
    );
  }
}

// Changesets.
const changesets = readJson('.changeset/config.json');
if (!['patch', 'minor'].includes(changesets.updateInternalDependencies)) {
  fail('.changeset/config.json: updateInternalDependencies must be "patch" or "minor"');
}
if (changesets.privatePackages?.version !== false) {
  fail(
    '.changeset/config.json: privatePackages.version must be false (private workspaces are not versioned)',
  );
}
if (changesets.access !== 'public') fail('.changeset/config.json: access must be "public" (scoped packages)');
for (const name of changesets.ignore ?? []) {
  if (published.some(({ pkg }) => pkg.name === name))
    fail(`.changeset/config.json: ignores published ${name}`);
}
const changesetReadme = readFileSync(path.join(root, '.changeset/README.md'), 'utf8');
for (const { dir } of workspaces.filter(({ dir }) => dir.startsWith('apps/'))) {
  if (!changesetReadme.includes(dir)) fail(`.changeset/README.md: does not say whether ${dir} is published`);
}

if (problems.length > 0) {
  console.error(`check-packages: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `check-packages: ${published.length} published packages (${published.map(({ pkg }) => pkg.name).join(', ')}) ` +
    `and ${workspaces.length - published.length} private; LICENSE, internal ranges, engines "${engines}" and changesets agree`,
);
