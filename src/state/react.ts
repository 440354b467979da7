/** React bindings for the store: a context carrying the store and a typed selector hook. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { LoupeState, LoupeStore } from './store';
import type { Services } from './services';

export const StoreContext = createContext<{ store: LoupeStore; services: Services } | null>(null);

function useStoreContext(): { store: LoupeStore; services: Services } {
  const value = useContext(StoreContext);
  if (!value) throw new Error('StoreContext missing: wrap the app in <StoreContext.Provider>.');
  return value;
}

export function useLoupe<T>(selector: (state: LoupeState) => T): T {
  return useStore(useStoreContext().store, selector);
}

export function useServices(): Services {
  return useStoreContext().services;
}
