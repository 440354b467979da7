/**
 * A virtualised, selectable grid of thumbnails: only the visible rows are in the DOM, so a label
 * with thousands of images scrolls smoothly. Click selects, Ctrl/Cmd-click toggles, Shift-click
 * extends the selection. From the keyboard the grid is one tab stop (roving focus, useGridKeys):
 * arrows move by the rendered column count, Home/End go to the ends, Space/Enter toggle (Shift
 * extends), and 1-9 relabel the focused image — or the whole selection when the focused image is
 * selected — to the label at that position, focus moving on to the next image of this grid. The
 * focused image's row always stays rendered, so focus survives scrolling.
 */
import {
  memo,
  useCallback,
  useContext,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
} from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import type { SampleMeta } from '../core/storage/schema';
import { StoreContext, useLoupe } from '../state/react';
import { nextUnmoved } from './gridKeys';
import { useGridKeys } from './useGridKeys';
import { useLabelKeys } from './useLabelKeys';
import { useThumbnailUrl } from './useThumbnailUrl';

const GAP = 6;

export function ThumbnailGrid(props: {
  samples: SampleMeta[];
  getOrderedIds: () => readonly string[];
  label: string;
}) {
  const { samples, getOrderedIds } = props;
  const thumbSize = useLoupe((s) => s.thumbSize);
  const select = useLoupe((s) => s.select);
  const clearSelection = useLoupe((s) => s.clearSelection);
  const store = useContext(StoreContext);
  const assignLabel = useLabelKeys();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(entry.contentRect.width);
    });
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, []);

  const columns = Math.max(1, Math.floor((width + GAP) / (thumbSize + GAP)));
  const rows = Math.ceil(samples.length / columns);
  const ids = useMemo(() => samples.map((s) => s.id), [samples]);
  const grid = useGridKeys({ ids, columns, container: scrollRef });
  const activeRow = Math.floor(grid.activeIndex / columns);
  // The focused image's row stays in the DOM even when scrolled out of view: focus survives.
  const rangeExtractor = useCallback(
    (range: Range): number[] => {
      const indexes = defaultRangeExtractor(range);
      if (activeRow >= range.count || indexes.includes(activeRow)) return indexes;
      return [...indexes, activeRow].sort((a, b) => a - b);
    },
    [activeRow],
  );
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is used as documented
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => thumbSize + GAP,
    overscan: 3,
    rangeExtractor,
  });

  const latestIds = useRef(ids);
  useLayoutEffect(() => {
    latestIds.current = ids;
  });
  const { onNavigationKey, focusItem } = grid;
  const onKey = useCallback(
    (e: KeyboardEvent<HTMLElement>, id: string) => {
      if (onNavigationKey(e, id)) return;
      if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        select(id, e.shiftKey ? 'range' : 'toggle', getOrderedIds());
        return;
      }
      if (e.altKey || e.ctrlKey || e.metaKey || !store) return;
      const selection = store.getState().selection;
      const useSelection = selection.has(id);
      const targets = useSelection ? [...selection] : [id];
      const pending = assignLabel(e.key, targets);
      if (!pending) return;
      e.preventDefault();
      const list = latestIds.current;
      const next = nextUnmoved(list, list.indexOf(id), new Set(targets));
      if (next !== null) focusItem(next);
      if (useSelection && store.getState().project?.kind !== 'multi-label')
        void pending.then(clearSelection);
    },
    [onNavigationKey, focusItem, select, getOrderedIds, store, assignLabel, clearSelection],
  );

  return (
    <div
      ref={scrollRef}
      className="thumb-scroll"
      style={{ maxHeight: Math.min(rows, 3.5) * (thumbSize + GAP) + GAP }}
    >
      <div
        role="listbox"
        aria-multiselectable="true"
        aria-label={`${props.label} thumbnails`}
        className="thumb-canvas"
        style={{ height: virtualizer.getTotalSize() }}
      >
        {virtualizer.getVirtualItems().map((row) => (
          <div
            key={row.key}
            className="thumb-row"
            style={{ transform: `translateY(${row.start}px)`, height: thumbSize, gap: GAP }}
          >
            {samples.slice(row.index * columns, row.index * columns + columns).map((s) => (
              <Thumbnail
                key={s.id}
                sample={s}
                size={thumbSize}
                tabStop={s.id === grid.activeId}
                getOrderedIds={getOrderedIds}
                onKey={onKey}
                onFocusItem={grid.onItemFocus}
              />
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}

const Thumbnail = memo(function Thumbnail(props: {
  sample: SampleMeta;
  size: number;
  tabStop: boolean;
  getOrderedIds: () => readonly string[];
  onKey: (e: KeyboardEvent<HTMLElement>, id: string) => void;
  onFocusItem: (id: string) => void;
}) {
  const { sample, size, getOrderedIds, onKey, onFocusItem } = props;
  const selected = useLoupe((s) => s.selection.has(sample.id));
  const select = useLoupe((s) => s.select);
  const url = useThumbnailUrl(sample.id);

  return (
    <div
      role="option"
      aria-selected={selected}
      tabIndex={props.tabStop ? 0 : -1}
      className={`thumb${selected ? ' selected' : ''}`}
      style={{ width: size, height: size }}
      title={`${sample.name} — ${sample.width}×${sample.height}`}
      data-sample-id={sample.id}
      onClick={(e) =>
        select(
          sample.id,
          e.shiftKey ? 'range' : e.metaKey || e.ctrlKey ? 'toggle' : 'replace',
          getOrderedIds(),
        )
      }
      onFocus={() => onFocusItem(sample.id)}
      onKeyDown={(e) => onKey(e, sample.id)}
    >
      {url ? (
        <img src={url} alt={sample.name} draggable={false} />
      ) : (
        <span className="thumb-placeholder" aria-hidden="true" />
      )}
    </div>
  );
});
