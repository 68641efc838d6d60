import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lockOutput, OutputLockedError } from './lock';

const folder = () => mkdtemp(path.join(os.tmpdir(), 'lock-'));
/** The pid of a process that has exited (it is not reused this soon). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;
const record = (pid: number, hostname = os.hostname()) =>
  JSON.stringify({ pid, hostname, startedAt: '2020-01-01T00:00:00.000Z', token: 'old' });

describe('the output lock', () => {
  it('refuses a second holder with one line naming the folder and the holder; released, it is free', async () => {
    const out = await folder();
    const file = path.join(out, 'lock');
    const lock = await lockOutput(out, file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      pid: process.pid,
      hostname: os.hostname(),
    });
    const second = lockOutput(out, file);
    await expect(second).rejects.toThrow(OutputLockedError);
    await expect(second).rejects.toThrow(
      new RegExp(
        `^out: ${out} is in use by another scrape \\(pid ${process.pid} on ${os.hostname()}, since \\d{4}-`,
      ),
    );
    await lock.release();
    await lock.release(); // twice is harmless
    expect(existsSync(file)).toBe(false);
    await (await lockOutput(out, file)).release();
  });

  it('takes over a lock whose process is dead, or one left with this pid by an earlier process', async () => {
    const out = await folder();
    const file = path.join(out, 'lock');
    await writeFile(file, record(deadPid()));
    const lock = await lockOutput(out, file);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await writeFile(file, record(process.pid)); // a container restarted: same pid, not this run's lock
    await (await lockOutput(out, file)).release();
    expect(existsSync(file)).toBe(false);
  });

  it('never takes over a live process’s lock, another host’s, or a file it cannot read', async () => {
    const out = await folder();
    const file = path.join(out, 'lock');
    await writeFile(file, record(process.ppid)); // the parent is alive
    await expect(lockOutput(out, file)).rejects.toThrow(`pid ${process.ppid} on ${os.hostname()}`);
    await writeFile(file, record(deadPid(), 'elsewhere.example'));
    await expect(lockOutput(out, file)).rejects.toThrow(
      /on elsewhere\.example, since .*; if that run is gone, delete .*lock$/,
    );
    await writeFile(file, 'garbage');
    await expect(lockOutput(out, file)).rejects.toThrow(
      `out: ${out} is locked by ${file}, which is not a scrape lock`,
    );
    expect(readFileSync(file, 'utf8')).toBe('garbage'); // left alone
  });

  it('a release does not remove a lock another run took over meanwhile', async () => {
    const out = await folder();
    const file = path.join(out, 'lock');
    const lock = await lockOutput(out, file);
    await writeFile(file, record(process.ppid)); // as if a later run held it now
    await lock.release();
    expect(existsSync(file)).toBe(true);
  });

  it('many racing takers: exactly one wins', async () => {
    const out = await folder();
    const file = path.join(out, 'lock');
    await writeFile(file, record(deadPid()));
    const tries = await Promise.allSettled(Array.from({ length: 8 }, () => lockOutput(out, file)));
    // In one process the winner's pid is ours, so the others see a live holder and are refused.
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
    for (const t of tries) if (t.status === 'fulfilled') await t.value.release();
  });
});
