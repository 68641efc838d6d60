import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// The native builds depend on files outside the repository (oneDNN's headers, the CUDA toolkit),
// which turbo cannot hash: a cached "addon not built" would be replayed after the user installs
// oneDNN. So turbo must run them every time (node-gyp's make and the CUDA stamp skip unchanged work).
const root = path.resolve(__dirname, '../../..');
const turbo = path.join(root, 'node_modules/.bin/turbo');
const inMonorepo = existsSync(path.join(root, 'turbo.json')) && existsSync(turbo);

(inMonorepo ? describe : describe.skip)('native builds in the monorepo', () => {
  it('are never replayed from turbo’s cache', () => {
    const plan = JSON.parse(
      execFileSync(
        turbo,
        [
          'run',
          'build',
          '--filter=@resnet-ts/tfjs-backend-onednn',
          '--filter=@resnet-ts/tfjs-backend-cuda',
          '--dry=json',
        ],
        { cwd: root, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
      ),
    ) as { tasks: { taskId: string; resolvedTaskDefinition: { cache: boolean } }[] };
    const caching = Object.fromEntries(plan.tasks.map((t) => [t.taskId, t.resolvedTaskDefinition.cache]));
    expect(caching['@resnet-ts/tfjs-backend-onednn#build']).toBe(false);
    expect(caching['@resnet-ts/tfjs-backend-cuda#build']).toBe(false);
  });
});
