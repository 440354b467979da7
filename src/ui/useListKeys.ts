/**
 * Keyboard labelling in a Review list: one tab stop per list (roving tabindex over its items),
 * arrow keys / Home / End move focus, and 1-9 give the focused image the label in that board
 * position (through `useLabelKeys`, the board's own relabel actions), focus going on to the next
 * item. Items carry their sample id in `data-sample-id`.
 */
import { useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { nextGridIndex, nextUnmoved } from './gridKeys';
import { useLabelKeys } from './useLabelKeys';

export interface ListItemProps {
  'data-sample-id': string;
  tabIndex: number;
  onFocus: (event: { target: EventTarget; currentTarget: EventTarget }) => void;
  onKeyDown: (event: KeyboardEvent<HTMLElement>) => void;
}

export function useListKeys(ids: readonly string[]): {
  listRef: RefObject<HTMLUListElement | null>;
  itemProps: (id: string) => ListItemProps;
} {
  const listRef = useRef<HTMLUListElement>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const assign = useLabelKeys();
  const tabStop = current !== null && ids.includes(current) ? current : (ids[0] ?? null);

  const focusItem = (id: string | undefined): void => {
    if (id === undefined) return;
    setCurrent(id);
    listRef.current?.querySelector<HTMLElement>(`[data-sample-id="${CSS.escape(id)}"]`)?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLElement>, id: string): void => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.target !== event.currentTarget) {
      return;
    }
    const index = ids.indexOf(id);
    // The relabel runs in the background (the store reports a failure); focus moves on now.
    if (assign(event.key, [id]) !== null) {
      event.preventDefault();
      event.stopPropagation();
      focusItem(nextUnmoved(ids, index, new Set([id])) ?? undefined);
      return;
    }
    const to = nextGridIndex(event.key, index, ids.length, 1);
    if (to === null) return;
    event.preventDefault();
    focusItem(ids[to]);
  };

  return {
    listRef,
    itemProps: (id) => ({
      'data-sample-id': id,
      tabIndex: id === tabStop ? 0 : -1,
      onFocus: (e) => {
        if (e.target === e.currentTarget) setCurrent(id);
      },
      onKeyDown: (e) => onKeyDown(e, id),
    }),
  };
}
