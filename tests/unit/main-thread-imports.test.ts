// The page's main thread loads no TF.js: only the workers import it. Walks the static value imports
// (not `import type`, not `new URL(..., import.meta.url)` worker entries) from src/app/main.tsx
// and fails on any module that imports a TF.js package, naming the chain that led to it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'src/app/main.tsx');

/** Value imports and re-exports of a module (type-only ones carry no code). */
function valueImports(source: string): string[] {
  const specs: string[] = [];
  const pattern =
    /^(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+'([^']+)'|^import\s+'([^']+)'/gms;
  for (const m of source.matchAll(pattern)) {
    const clause = m[1] ?? '';
    // `export { a, type B } from` with only type names, or `import { type A }`, carries no code.
    const names = /^\{([^}]*)\}$/.exec(clause.trim())?.[1];
    if (names && names.split(',').every((n) => /^\s*type\s/.test(n) || !n.trim())) continue;
    specs.push((m[2] ?? m[3]) as string);
  }
  return specs;
}

function resolve(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (existsSync(c) && !c.endsWith(path.sep) && /\.(ts|tsx)$/.test(c)) return c;
  }
  return null;
}

describe('main thread', () => {
  it('imports no TF.js, directly or through any module it loads', () => {
    const seen = new Map<string, string[]>([[ENTRY, [ENTRY]]]);
    const queue = [ENTRY];
    const offenders: string[] = [];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      const chain = seen.get(file) ?? [];
      for (const spec of valueImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('@tensorflow')) {
          offenders.push(
            [...chain, spec]
              .map((p) => (p.startsWith(ROOT) ? path.relative(ROOT, p) : p))
              .join(' -> '),
          );
          continue;
        }
        if (!spec.startsWith('.')) continue;
        const next = resolve(file, spec);
        if (next && !seen.has(next)) {
          seen.set(next, [...chain, next]);
          queue.push(next);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
  });
});
