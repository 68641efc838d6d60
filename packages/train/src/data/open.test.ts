import os from 'node:os';
import path from 'node:path';
import { defaultCacheDir } from './open';

describe('defaultCacheDir', () => {
  const saved = process.env.XDG_CACHE_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  });

  it('follows XDG_CACHE_HOME when it is set', () => {
    process.env.XDG_CACHE_HOME = path.join(os.tmpdir(), 'xdg-cache');
    expect(defaultCacheDir()).toBe(path.join(os.tmpdir(), 'xdg-cache', 'resnet-ts'));
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or empty', () => {
    delete process.env.XDG_CACHE_HOME;
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.cache', 'resnet-ts'));
    process.env.XDG_CACHE_HOME = '';
    expect(defaultCacheDir()).toBe(path.join(os.homedir(), '.cache', 'resnet-ts'));
  });
});
