/**
 * The board toolbar's thumbnail-size slider, bound to the thumbSize preference in the store.
 */
import { useLoupe } from '../state/react';

export function ThumbSizeSlider() {
  const size = useLoupe((s) => s.thumbSize);
  const setSize = useLoupe((s) => s.setThumbSize);
  return (
    <label className="slider">
      Thumbnail size
      <input
        type="range"
        min={56}
        max={192}
        step={8}
        value={size}
        onChange={(e) => setSize(Number(e.target.value))}
      />
    </label>
  );
}
