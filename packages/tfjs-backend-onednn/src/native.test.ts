import { join } from 'node:path';

describe('without the native addon', () => {
  const saved = process.env.ONEDNN_ADDON_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.ONEDNN_ADDON_PATH;
    else process.env.ONEDNN_ADDON_PATH = saved;
  });

  it('explains what to install, and selecting the backend fails with that message', async () => {
    process.env.ONEDNN_ADDON_PATH = join(__dirname, 'no-such-addon.node');
    await jest.isolateModulesAsync(async () => {
      const tf = await import('@tensorflow/tfjs-core');
      const onednn = await import('./index');
      expect(onednn.isOneDnnAvailable()).toBe(false);
      expect(onednn.unavailableReason()).toMatch(
        /no-such-addon\.node is missing.*apt-get install libdnnl-dev.*npm rebuild/,
      );
      expect(() => new onednn.OneDnnBackend()).toThrow(/onednn backend unavailable: .*libdnnl-dev/);
      // Registered below cpu, so tfjs never picks it by default.
      expect(tf.findBackendFactory('onednn')).toBeDefined();
    });
  });
});
