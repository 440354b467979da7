/**
 * Number keys 1-9 as labelling shortcuts: the key names the label at that position in board order
 * and the images go to it through the board's own actions (`moveSamples` in a single-label project,
 * as "Move selected to" does; `tagSamples` adding the label in a multi-label project, as "Add label
 * to selected" does), so the heads follow the change exactly as they do for those controls.
 */
import { useCallback } from 'react';
import { useLoupe } from '../state/react';
import { labelPositionForKey } from './gridKeys';

/** How many labels carry a number key (1-9). */
export const LABEL_KEYS = 9;

/**
 * Returns `assign(key, ids)`: when `key` is 1-9 and a label sits at that position, relabels `ids`
 * and returns the pending action; otherwise returns null and does nothing.
 */
export function useLabelKeys(): (key: string, ids: readonly string[]) => Promise<void> | null {
  const labels = useLoupe((s) => s.labels);
  const multi = useLoupe((s) => s.project?.kind === 'multi-label');
  const move = useLoupe((s) => s.moveSamples);
  const tag = useLoupe((s) => s.tagSamples);
  return useCallback(
    (key, ids) => {
      const position = labelPositionForKey(key);
      const label = position === null ? undefined : labels[position];
      if (!label || ids.length === 0) return null;
      return multi ? tag([...ids], label.id, true) : move([...ids], label.id);
    },
    [labels, multi, move, tag],
  );
}
