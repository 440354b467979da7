// Keyboard math of the board grids and review lists: arrow, Home and End moves by the rendered
// column count, number keys naming label positions, and the item focused after a relabel.
import { describe, expect, it } from 'vitest';
import { labelPositionForKey, nextGridIndex, nextUnmoved } from '../../src/ui/gridKeys';

describe('nextGridIndex', () => {
  // 10 items in 4 columns:  0 1 2 3 / 4 5 6 7 / 8 9
  const move = (key: string, index: number): number | null => nextGridIndex(key, index, 10, 4);

  it('moves left and right one item, stopping at the ends', () => {
    expect(move('ArrowRight', 0)).toBe(1);
    expect(move('ArrowRight', 3)).toBe(4); // wraps to the next row, reading order
    expect(move('ArrowRight', 9)).toBe(9);
    expect(move('ArrowLeft', 4)).toBe(3);
    expect(move('ArrowLeft', 0)).toBe(0);
  });

  it('moves up and down by the column count', () => {
    expect(move('ArrowDown', 1)).toBe(5);
    expect(move('ArrowDown', 5)).toBe(9);
    expect(move('ArrowUp', 9)).toBe(5);
    expect(move('ArrowUp', 2)).toBe(2);
  });

  it('lands on the last item when the row below is shorter, and stays on the last row', () => {
    expect(move('ArrowDown', 6)).toBe(9);
    expect(move('ArrowDown', 7)).toBe(9);
    expect(move('ArrowDown', 8)).toBe(8);
    expect(move('ArrowDown', 9)).toBe(9);
  });

  it('goes to the first and last item with Home and End', () => {
    expect(move('Home', 7)).toBe(0);
    expect(move('End', 2)).toBe(9);
  });

  it('treats a list as one column and ignores other keys and empty grids', () => {
    expect(nextGridIndex('ArrowDown', 0, 3, 1)).toBe(1);
    expect(nextGridIndex('ArrowUp', 2, 3, 1)).toBe(1);
    expect(nextGridIndex('ArrowDown', 0, 3, 0)).toBe(1); // a zero column count counts as one
    expect(nextGridIndex('a', 0, 3, 2)).toBeNull();
    expect(nextGridIndex('Enter', 0, 3, 2)).toBeNull();
    expect(nextGridIndex('ArrowRight', 0, 0, 4)).toBeNull();
  });

  it('clamps an index that fell outside the grid (items removed meanwhile)', () => {
    expect(nextGridIndex('ArrowLeft', 12, 10, 4)).toBe(8);
    expect(nextGridIndex('ArrowRight', -3, 10, 4)).toBe(1);
  });
});

describe('labelPositionForKey', () => {
  it('maps 1-9 to positions 0-8 and nothing else', () => {
    expect(labelPositionForKey('1')).toBe(0);
    expect(labelPositionForKey('9')).toBe(8);
    expect(labelPositionForKey('0')).toBeNull();
    expect(labelPositionForKey('a')).toBeNull();
    expect(labelPositionForKey('F1')).toBeNull();
    expect(labelPositionForKey('Numpad1')).toBeNull();
  });
});

describe('nextUnmoved', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];

  it('is the next item when only the focused one moved', () => {
    expect(nextUnmoved(ids, 1, new Set(['b']))).toBe('c');
  });

  it('skips moved items after the focused one', () => {
    expect(nextUnmoved(ids, 1, new Set(['b', 'c', 'e']))).toBe('d');
  });

  it('falls back to the nearest unmoved item before it at the end of the list', () => {
    expect(nextUnmoved(ids, 4, new Set(['e']))).toBe('d');
    expect(nextUnmoved(ids, 3, new Set(['c', 'd', 'e']))).toBe('b');
  });

  it('is null when every item moved', () => {
    expect(nextUnmoved(ids, 2, new Set(ids))).toBeNull();
    expect(nextUnmoved([], 0, new Set())).toBeNull();
  });
});
