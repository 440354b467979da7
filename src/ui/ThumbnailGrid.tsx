/**
 * A virtualised, selectable grid of thumbnails: only the visible rows are in the DOM, so a label
 * with thousands of images scrolls smoothly. Click selects, Ctrl/Cmd-click toggles, Shift-click
 * extends the selection.
 */
import { memo, useLayoutEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { SampleMeta } from '../core/storage/schema';
import { useLoupe } from '../state/react';
import { useThumbnailUrl } from './useThumbnailUrl';

const GAP = 6;

export function ThumbnailGrid(props: {
  samples: SampleMeta[];
  getOrderedIds: () => readonly string[];
  label: string;
}) {
  const { samples, getOrderedIds } = props;
  const thumbSize = useLoupe((s) => s.thumbSize);
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
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is used as documented
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => thumbSize + GAP,
    overscan: 3,
  });

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
              <Thumbnail key={s.id} sample={s} size={thumbSize} getOrderedIds={getOrderedIds} />
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
  getOrderedIds: () => readonly string[];
}) {
  const { sample, size, getOrderedIds } = props;
  const selected = useLoupe((s) => s.selection.has(sample.id));
  const select = useLoupe((s) => s.select);
  const url = useThumbnailUrl(sample.id);

  return (
    <div
      role="option"
      aria-selected={selected}
      tabIndex={0}
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
      onKeyDown={(e) => {
        if (e.key === ' ' || e.key === 'Enter') {
          e.preventDefault();
          select(sample.id, e.shiftKey ? 'range' : 'toggle', getOrderedIds());
        }
      }}
    >
      {url ? (
        <img src={url} alt={sample.name} draggable={false} />
      ) : (
        <span className="thumb-placeholder" aria-hidden="true" />
      )}
    </div>
  );
});
