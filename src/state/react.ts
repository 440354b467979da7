/** React bindings for the store: a context carrying the store and a typed selector hook. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { LoupeState, LoupeStore } from './store';

export const StoreContext = createContext<LoupeStore | null>(null);

/** Reads a slice of the store; re-renders when the selected value changes. */
export function useLoupe<T>(selector: (state: LoupeState) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('StoreContext missing: wrap the app in <StoreContext.Provider>.');
  return useStore(store, selector);
}
