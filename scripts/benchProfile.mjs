// CPU profile of the page's main thread for `npm run bench -- --scale N --profile`: records with
// CDP Profiler while a phase runs, writes the .cpuprofile (open it in Chrome DevTools) and lists
// every busy stretch over 50 ms (consecutive samples not '(idle)') with its heaviest functions by self
// time, so the long tasks of a phase can be traced to code. Build without minifying
// (`npx vite build --minify false`, then `--no-build`) for readable names.
import { writeFileSync } from 'node:fs';

export async function startProfile(page, intervalUs = 1000) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await cdp.send('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await cdp.send('Profiler.stop');
      await cdp.detach().catch(() => undefined);
      writeFileSync(file, JSON.stringify(profile));
      return busyStretches(profile);
    },
  };
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** Busy stretches over `minMs` with their top self-time functions (name url:line). */
export function busyStretches(profile, minMs = 50, top = 6) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const label = (n) => {
    const f = n.callFrame;
    const file = f.url.split('/').pop();
    return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  };
  const out = [];
  let t = profile.startTime;
  let run = null;
  const close = () => {
    if (run && (run.end - run.start) / 1000 >= minMs) {
      const self = [...run.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
      out.push({
        atMs: Math.round((run.start - profile.startTime) / 1000),
        ms: Math.round((run.end - run.start) / 1000),
        gcMs: Math.round(run.gc / 1000),
        top: self.map(([name, us]) => `${Math.round(us / 1000)} ms ${name}`),
      });
    }
    run = null;
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const node = nodes.get(profile.samples[i]);
    const name = node.callFrame.functionName;
    // '(program)' is native work (style, layout, paint, message passing): it is part of a task.
    if (name === '(idle)') {
      close();
      continue;
    }
    run ??= { start: t - dt, end: t, self: new Map(), gc: 0 };
    run.end = t;
    const key = IDLE.has(name) ? name : label(node);
    run.self.set(key, (run.self.get(key) ?? 0) + dt);
    if (name === '(garbage collector)') run.gc += dt;
  }
  close();
  return out.sort((a, b) => b.ms - a.ms).slice(0, 25);
}
