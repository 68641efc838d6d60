import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// scripts/setup.sh, the README's one set-up command, run against stand-ins for node, dpkg, apt-get,
// sudo, id and npm that record how they were called: each branch without touching this machine.
const script = path.resolve(__dirname, '../../../scripts/setup.sh');

interface Machine {
  nodeVersion?: string;
  root: boolean;
  installed: string[];
  sudo?: 'passwordless' | 'none';
}

async function runSetup(machine: Machine) {
  const bin = await mkdtemp(path.join(os.tmpdir(), 'setup-sh-'));
  const log = path.join(bin, 'calls.log');
  const stub = async (name: string, body: string) => {
    await writeFile(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
    await chmod(path.join(bin, name), 0o755);
  };
  if (machine.nodeVersion) {
    // The real node evaluates the script's version test, against the stand-in's version.
    await stub(
      'node',
      `if [ "$1" = -p ]; then echo ${machine.nodeVersion}; exit 0; fi
exec ${process.execPath} -e "Object.defineProperty(process.versions,'node',{value:'${machine.nodeVersion}'});eval(process.argv[1])" "$2"`,
    );
  }
  await stub('dpkg', `case " ${machine.installed.join(' ')} " in *" $2 "*) exit 0;; *) exit 1;; esac`);
  await stub('id', `echo ${machine.root ? 0 : 1000}`);
  await stub('apt-get', 'exit 0');
  if (machine.sudo === 'passwordless') await stub('sudo', 'exit 0');
  await stub('npm', 'exit 0');
  await stub('npx', 'exit 0');
  // bash and the coreutils the script uses, but none of this machine's node, npm, sudo or dpkg.
  for (const tool of ['dirname', 'printf', 'cat'])
    await writeFile(path.join(bin, tool), `#!/bin/bash\nexec /usr/bin/${tool} "$@"\n`, { mode: 0o755 });
  const result = spawnSync('/bin/bash', [script], {
    env: { PATH: bin, HOME: bin },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const calls = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  await rm(bin, { recursive: true, force: true });
  return { status: result.status, stderr: result.stderr, calls };
}

describe('scripts/setup.sh', () => {
  it('without Node: says which version to install and how, and stops', async () => {
    const { status, stderr } = await runSetup({ root: true, installed: [] });
    expect(status).toBe(1);
    expect(stderr).toMatch(/Node\.js is not installed\. Install Node 20\.18\.1 or newer.*nvm install 20/);
  });

  it("with Debian 12's Node 18: says it is too old", async () => {
    const { status, stderr, calls } = await runSetup({ nodeVersion: '18.19.0', root: true, installed: [] });
    expect(status).toBe(1);
    expect(stderr).toMatch(/Node 18\.19\.0 is too old: install Node 20\.18\.1 or newer/);
    expect(calls.some((c) => c.startsWith('apt-get'))).toBe(false);
  });

  it('as root: installs only the missing packages with apt, then npm ci, build and doctor', async () => {
    const { status, calls } = await runSetup({
      nodeVersion: '20.20.2',
      root: true,
      installed: ['g++', 'make', 'python3'],
    });
    expect(status).toBe(0);
    expect(calls.filter((c) => /^(apt-get|npm|npx|sudo)/.test(c))).toEqual([
      'apt-get update -q',
      'apt-get install -y --no-install-recommends libdnnl-dev',
      'npm ci --no-audit --no-fund',
      'npm run build',
      'npx resnet doctor',
    ]);
  });

  it('not root, with sudo: installs through sudo', async () => {
    const { status, calls } = await runSetup({
      nodeVersion: '22.1.0',
      root: false,
      installed: [],
      sudo: 'passwordless',
    });
    expect(status).toBe(0);
    expect(calls).toContainEqual(
      'sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ make python3 libdnnl-dev',
    );
    expect(calls.some((c) => c.startsWith('apt-get'))).toBe(false); // only through sudo
  });

  it('not root, no sudo: prints the exact command to run as root and installs nothing', async () => {
    const { status, stderr, calls } = await runSetup({
      nodeVersion: '20.18.1',
      root: false,
      installed: ['g++'],
    });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'missing system packages: make python3 libdnnl-dev. Run as root: apt-get update && apt-get install -y --no-install-recommends make python3 libdnnl-dev',
    );
    expect(calls.some((c) => /^(apt-get (install|update)|npm)/.test(c))).toBe(false);
  });

  it('with everything installed: no apt at all', async () => {
    const { status, calls } = await runSetup({
      nodeVersion: '20.18.1',
      root: false,
      installed: ['g++', 'make', 'python3', 'libdnnl-dev'],
    });
    expect(status).toBe(0);
    expect(calls.some((c) => /^(apt-get|sudo)/.test(c))).toBe(false);
    expect(calls).toContain('npm ci --no-audit --no-fund');
  });
});
