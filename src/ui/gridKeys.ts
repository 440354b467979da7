/**
 * Pure keyboard math for grids and lists of items (no DOM, no React): where an arrow, Home or End
 * key moves focus given the item count and the rendered column count, which label a number key
 * names, and which item takes focus once some items have been relabelled away.
 */

/** The keys `nextGridIndex` understands. */
export const GRID_KEYS: ReadonlySet<string> = new Set([
  'ArrowLeft',
  'ArrowRight',
  'ArrowUp',
  'ArrowDown',
  'Home',
  'End',
]);

/**
 * The index focus moves to from `index` for `key` in a grid of `count` items laid out row by row in
 * `columns` columns (a list is a grid of one column); null when the key is not a navigation key or
 * the grid is empty. Moves stop at the edges. ArrowDown from a row above a shorter last row lands
 * on the last item; Home and End go to the first and last item.
 */
export function nextGridIndex(
  key: string,
  index: number,
  count: number,
  columns: number,
): number | null {
  if (count <= 0 || !GRID_KEYS.has(key)) return null;
  const cols = Math.max(1, Math.floor(columns));
  const i = Math.min(Math.max(0, Math.floor(index)), count - 1);
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, i - 1);
    case 'ArrowRight':
      return Math.min(count - 1, i + 1);
    case 'ArrowUp':
      return i - cols >= 0 ? i - cols : i;
    case 'ArrowDown': {
      if (i + cols < count) return i + cols;
      const lastRow = Math.floor((count - 1) / cols);
      return Math.floor(i / cols) < lastRow ? count - 1 : i;
    }
    case 'Home':
      return 0;
    default:
      return count - 1;
  }
}

/** The label position (0-8) a number key 1-9 names, or null for any other key. */
export function labelPositionForKey(key: string): number | null {
  return key.length === 1 && key >= '1' && key <= '9' ? key.charCodeAt(0) - 49 : null;
}

/**
 * The item that should take focus after the items in `moved` were relabelled while the item at
 * `index` had focus: the first item after it that was not moved, else the last one before it that
 * was not moved, else null. Ids, not indices, so the answer holds once the moved items leave the
 * list.
 */
export function nextUnmoved(
  ids: readonly string[],
  index: number,
  moved: ReadonlySet<string>,
): string | null {
  for (let i = index + 1; i < ids.length; i++) {
    const id = ids[i];
    if (id !== undefined && !moved.has(id)) return id;
  }
  for (let i = Math.min(index, ids.length) - 1; i >= 0; i--) {
    const id = ids[i];
    if (id !== undefined && !moved.has(id)) return id;
  }
  return null;
}
