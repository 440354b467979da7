/**
 * Backend switches and model-file checks in the engine worker run one at a time: a check asked
 * for while the backends are being probed starts only once the probe has settled (failed or not).
 */
import { describe, expect, it } from 'vitest';
import { exclusive } from '../../src/worker/backendSwitch';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('exclusive', () => {
  it('runs work in call order, each after the one before has settled', async () => {
    const log: string[] = [];
    const probe = exclusive(async () => {
      log.push('probe starts');
      await tick();
      log.push('probe switches backend');
      await tick();
      log.push('probe ends');
      throw new Error('no backend');
    });
    const check = exclusive(async () => {
      log.push('check runs');
      await Promise.resolve();
      return 'checked';
    });
    await expect(probe).rejects.toThrow('no backend');
    expect(await check).toBe('checked');
    expect(log).toEqual(['probe starts', 'probe switches backend', 'probe ends', 'check runs']);
  });
});
