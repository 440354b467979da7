import { describe, expect, it } from 'vitest';
import { callWithCancel, JobRegistry } from '../../src/worker/jobs';

describe('JobRegistry and callWithCancel', () => {
  it('an abort on the client side reaches the running job through its id', async () => {
    const registry = new JobRegistry();
    const controller = new AbortController();
    const seen: string[] = [];
    const result = callWithCancel(
      controller.signal,
      (jobId) => {
        seen.push(jobId);
        registry.cancel(jobId);
      },
      (jobId) =>
        registry.run(
          jobId,
          (signal) =>
            new Promise<string>((resolve) => {
              signal.addEventListener('abort', () => resolve(`aborted ${jobId}`));
            }),
        ),
    );
    expect(registry.size).toBe(1);
    controller.abort();
    const message = await result;
    expect(seen).toHaveLength(1);
    expect(message).toBe(`aborted ${seen[0]}`);
    expect(registry.size).toBe(0);
  });

  it('forgets a job that fails, and ignores cancels of unknown or finished jobs', async () => {
    const registry = new JobRegistry();
    await expect(
      registry.run('a', () => Promise.reject(new Error('decoder broke'))),
    ).rejects.toThrow('decoder broke');
    expect(registry.size).toBe(0);
    expect(() => registry.cancel('a')).not.toThrow();
    expect(await registry.run('b', (signal) => Promise.resolve(signal.aborted))).toBe(false);
  });

  it('stops listening once the call settles: a later abort sends no cancel', async () => {
    const controller = new AbortController();
    const cancels: string[] = [];
    const ids: string[] = [];
    await callWithCancel(
      controller.signal,
      (id) => cancels.push(id),
      (id) => {
        ids.push(id);
        return Promise.resolve(1);
      },
    );
    await callWithCancel(
      undefined,
      (id) => cancels.push(id),
      (id) => Promise.resolve(ids.push(id)),
    );
    controller.abort();
    expect(cancels).toEqual([]);
    expect(new Set(ids).size).toBe(2);
  });
});
