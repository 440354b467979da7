// The files every export zip carries: loupe-runtime.js (standalone), index.html (no external
// URLs, no inline event handlers, escaped title, valid module script) and README.txt.
import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  indexHtml,
  runtimeFiles,
  runtimeReadme,
  runtimeScript,
} from '../../src/runtime/bundle';

const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('runtime bundle files', () => {
  it('lists loupe-runtime.js, index.html and README.txt as UTF-8', () => {
    const files = runtimeFiles({ title: 'Flowers' });
    expect(files.map((f) => f.path)).toEqual(['loupe-runtime.js', 'index.html', 'README.txt']);
    expect(decode(files[0]?.bytes ?? new Uint8Array())).toBe(runtimeScript());
    expect(decode(files[1]?.bytes ?? new Uint8Array())).toBe(indexHtml('Flowers'));
    expect(decode(files[2]?.bytes ?? new Uint8Array())).toBe(runtimeReadme());
    expect(runtimeFiles().map((f) => f.path)).toHaveLength(3);
  });

  it('loupe-runtime.js imports nothing and exports loadClassifier', () => {
    const source = runtimeScript();
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(/);
    expect(source).toMatch(/export async function loadClassifier\(/);
    expect(source.split('\n').length).toBeLessThan(320);
  });

  it('index.html loads ./tf.min.js and ./loupe-runtime.js only, with no inline handlers', () => {
    const html = indexHtml('Flowers');
    expect(html).toContain('<script src="./tf.min.js"></script>');
    expect(html).toContain("import { loadClassifier } from './loupe-runtime.js';");
    expect(html).toContain('<script type="module">');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(src|href)="(?!\.\/)/);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toContain('{{TITLE}}');
    expect(html.match(/<title>Flowers<\/title>/)).not.toBeNull();
  });

  it("index.html's module script is valid JavaScript", () => {
    const html = indexHtml('x');
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const body = script.replace(/^\s*import .*$/m, 'const loadClassifier = null;');
    expect(() => new Function(`return async () => {${body}\n}`)).not.toThrow();
  });

  it('escapes the title', () => {
    const html = indexHtml('<img src=x onerror=alert(1)> & "q"');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;');
    expect(html).not.toContain('<img src=x');
    expect(indexHtml('   ')).toContain('<title>Loupe classifier</title>');
    expect(escapeHtml(`'$&'`)).toBe('&#39;$&amp;&#39;');
    expect(indexHtml('$& $1')).toContain('<title>$&amp; $1</title>');
  });

  it('README.txt names every file and shows the usage example', () => {
    const readme = runtimeReadme();
    for (const name of [
      'index.html',
      'tf.min.js',
      'loupe-runtime.js',
      'model.json',
      'metadata.json',
      'knn-manifest.json',
      'knn-examples.bin',
      'backbone/model.json',
    ]) {
      expect(readme).toContain(name);
    }
    expect(readme).toContain("await loadClassifier('./', { tf: window.tf })");
  });
});
