/**
 * Roving focus for one grid or list of items (board thumbnails, review lists): the grid is a single
 * tab stop (the active item has tabIndex 0, every other item -1), arrow keys move focus by the
 * rendered column count and Home/End to the ends (math in gridKeys.ts). The active item is kept
 * by id, so it survives items entering or leaving the list; when it leaves, its index is kept.
 * `focusItem` focuses an item as soon as its element is rendered, so a virtualised list only has to
 * keep the active item's row rendered (`activeIndex`) for focus to survive scrolling.
 * Items are found in `container` by an attribute holding their id (`data-sample-id` by default).
 */
import {
  useCallback,
  useLayoutEffect,
  useRef,
  useState,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import { nextGridIndex } from './gridKeys';

export interface GridKeys {
  /** Index in `ids` of the item holding the tab stop (0 for an empty list). */
  activeIndex: number;
  /** Id of the item holding the tab stop; null for an empty list. */
  activeId: string | null;
  /** Moves the tab stop to `id` and focuses its element once it is rendered. */
  focusItem(id: string): void;
  /** Call from an item's onFocus: a clicked or tabbed-to item takes the tab stop. */
  onItemFocus(id: string): void;
  /** Call from an item's onKeyDown: handles arrows, Home and End; true when it did. */
  onNavigationKey(event: KeyboardEvent, id: string): boolean;
}

function findItem(root: HTMLElement | null, attribute: string, id: string): HTMLElement | null {
  return root?.querySelector<HTMLElement>(`[${attribute}="${CSS.escape(id)}"]`) ?? null;
}

export function useGridKeys(options: {
  ids: readonly string[];
  columns: number;
  container: RefObject<HTMLElement | null>;
  attribute?: string;
}): GridKeys {
  const { ids, columns, container } = options;
  const attribute = options.attribute ?? 'data-sample-id';
  const [active, setActive] = useState<{ id: string | null; index: number }>({
    id: null,
    index: 0,
  });
  const [, setTick] = useState(0);
  const found = active.id === null ? -1 : ids.indexOf(active.id);
  const activeIndex = found >= 0 ? found : Math.min(active.index, Math.max(0, ids.length - 1));
  const activeId = ids[activeIndex] ?? null;

  const latest = useRef({ ids, columns, activeId });
  const pending = useRef<string | null>(null);
  useLayoutEffect(() => {
    latest.current = { ids, columns, activeId };
  });

  // After every render: focus the item asked for once it is in the DOM (a virtualised row may only
  // arrive a render later); forget the wish when the item left the list.
  useLayoutEffect(() => {
    const id = pending.current;
    if (id === null) return;
    if (!ids.includes(id)) {
      pending.current = null;
      return;
    }
    const el = findItem(container.current, attribute, id);
    if (el) {
      pending.current = null;
      el.focus();
    }
  });

  const focusItem = useCallback(
    (id: string) => {
      const index = latest.current.ids.indexOf(id);
      setActive({ id, index: Math.max(0, index) });
      const el = findItem(container.current, attribute, id);
      if (el) {
        el.focus();
        return;
      }
      pending.current = id;
      setTick((n) => n + 1);
    },
    [container, attribute],
  );

  const onItemFocus = useCallback((id: string) => {
    const index = latest.current.ids.indexOf(id);
    setActive((prev) => (prev.id === id ? prev : { id, index: Math.max(0, index) }));
  }, []);

  const onNavigationKey = useCallback(
    (event: KeyboardEvent, id: string): boolean => {
      if (event.altKey || event.ctrlKey || event.metaKey) return false;
      const { ids: list, columns: cols } = latest.current;
      const next = nextGridIndex(event.key, list.indexOf(id), list.length, cols);
      const target = next === null ? undefined : list[next];
      if (target === undefined) return false;
      event.preventDefault();
      focusItem(target);
      return true;
    },
    [focusItem],
  );

  return { activeIndex, activeId, focusItem, onItemFocus, onNavigationKey };
}
