import { describe, expect, it } from 'vitest';
import type { PathedFile } from '../../src/core/dataset/folders';
import { isSystemFile, labelsFromFolders, splitPath } from '../../src/core/dataset/folders';

const file = (path: string): PathedFile => ({
  file: new File(['x'], path.split(/[\\/]/).pop() ?? path),
  path,
});

/** path -> label name, for compact assertions. */
function labels(...paths: string[]): Record<string, string | null> {
  return Object.fromEntries(labelsFromFolders(paths.map(file)).map((f) => [f.path, f.labelName]));
}

describe('labelsFromFolders', () => {
  it('labels root/sub/file with the first-level sub-folder', () => {
    expect(
      labels('flowers/daisy/1.jpg', 'flowers/daisy/2.jpg', 'flowers/rose/deep/nested/3.jpg'),
    ).toEqual({
      'flowers/daisy/1.jpg': 'daisy',
      'flowers/daisy/2.jpg': 'daisy',
      'flowers/rose/deep/nested/3.jpg': 'rose',
    });
  });

  it('labels root/file with the root when the root has no sub-folders', () => {
    expect(labels('cats/1.jpg', 'cats/2.jpg', 'dogs/1.jpg')).toEqual({
      'cats/1.jpg': 'cats',
      'cats/2.jpg': 'cats',
      'dogs/1.jpg': 'dogs',
    });
  });

  it('sends root/file to the inbox when that root also has sub-folders', () => {
    expect(labels('flowers/readme.jpg', 'flowers/daisy/1.jpg', 'cats/1.jpg')).toEqual({
      'flowers/readme.jpg': null,
      'flowers/daisy/1.jpg': 'daisy',
      'cats/1.jpg': 'cats',
    });
  });

  it('sends loose files to the inbox', () => {
    expect(labels('photo.jpg', 'other.png')).toEqual({ 'photo.jpg': null, 'other.png': null });
  });

  it('skips system files and hidden folders silently', () => {
    const result = labelsFromFolders(
      [
        'flowers/.DS_Store',
        'flowers/daisy/Thumbs.db',
        'flowers/daisy/desktop.ini',
        '__MACOSX/flowers/daisy/._1.jpg',
        'flowers/.git/objects/ab.jpg',
        'flowers/daisy/.hidden.jpg',
        'flowers/daisy/1.jpg',
      ].map(file),
    );
    expect(result.map((f) => [f.path, f.labelName])).toEqual([['flowers/daisy/1.jpg', 'daisy']]);
  });

  it('understands backslash-separated paths and ignores empty or "." segments', () => {
    expect(labels('flowers\\daisy\\1.jpg', 'pets\\cat.jpg', './loose.jpg', 'a//b//c.jpg')).toEqual({
      'flowers\\daisy\\1.jpg': 'daisy',
      'pets\\cat.jpg': 'pets',
      './loose.jpg': null,
      'a//b//c.jpg': 'b',
    });
  });

  it('skips system files in backslash-separated paths too', () => {
    const result = labelsFromFolders(
      [
        'flowers\\.DS_Store',
        'flowers\\daisy\\Thumbs.db',
        '__MACOSX\\flowers\\daisy\\1.jpg',
        'flowers\\daisy\\1.jpg',
      ].map(file),
    );
    expect(result.map((f) => [f.path, f.labelName])).toEqual([['flowers\\daisy\\1.jpg', 'daisy']]);
  });

  it('keeps the file object and path of each entry', () => {
    const input = [file('flowers/daisy/1.jpg')];
    const [out] = labelsFromFolders(input);
    expect(out?.file).toBe(input[0]?.file);
    expect(out?.path).toBe('flowers/daisy/1.jpg');
  });
});

describe('isSystemFile and splitPath', () => {
  it('recognises system and dot files case-insensitively', () => {
    expect(isSystemFile('a/THUMBS.DB')).toBe(true);
    expect(isSystemFile('.DS_Store')).toBe(true);
    expect(isSystemFile('a/.config/x.jpg')).toBe(true);
    expect(isSystemFile('__MACOSX/x.jpg')).toBe(true);
    expect(isSystemFile('a/b/photo.jpg')).toBe(false);
    expect(isSystemFile('a/./photo.jpg')).toBe(false);
    expect(isSystemFile('a\\Desktop.ini')).toBe(true);
    expect(isSystemFile('a\\.cache\\x.jpg')).toBe(true);
  });

  it('splits on either separator', () => {
    expect(splitPath('a\\b/c.jpg')).toEqual(['a', 'b', 'c.jpg']);
    expect(splitPath('/a//b/')).toEqual(['a', 'b']);
  });
});
