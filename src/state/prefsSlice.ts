/** Small UI preferences (persisted as JSON): thumbnail size. */
import type { SliceCreator } from './store';

export interface PrefsSlice {
  thumbSize: number;
  setThumbSize(size: number): void;
}

export const createPrefsSlice: SliceCreator<PrefsSlice> = (set) => ({
  thumbSize: 96,
  setThumbSize: (size) => set({ thumbSize: Math.min(192, Math.max(56, Math.round(size))) }),
});
