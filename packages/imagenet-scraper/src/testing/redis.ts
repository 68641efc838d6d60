import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A real `redis-server` on a free loopback port, for the queue's tests (no mock). */
export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops it (SIGKILL with `kill: true`, as when a machine is lost) and waits for its exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/**
 * Whether tests that need `redis-server` can run. Absent, they skip with a message, except under
 * CI=true, where `.ci/run` installs it and its absence is a failure.
 */
export function redisAvailable(): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!found && process.env.CI === 'true')
    throw new Error('redis-server is not installed; .ci/run installs it (apt-get install redis-server)');
  if (!found)
    console.warn('skipping the queue tests: redis-server is not installed (apt-get install redis-server)');
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function ping(port: number): Promise<boolean> {
  const { Socket } = await import('node:net');
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Starts `redis-server` on `port` (a free one by default), in memory only, and waits until it answers. */
export async function startRedis(port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; !(await ping(chosen)); i++) {
    if (child.exitCode !== null || i > 100) throw new Error(`redis-server did not start on port ${chosen}`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    process: child,
    async stop(options = {}) {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}
