/** Minimal hash routing (#/ and #/p/<projectId>) so static hosting needs no rewrites. */
import { useEffect, useState } from 'react';

export type Route = { page: 'projects' } | { page: 'project'; projectId: string };

export function parseHash(hash: string): Route {
  const match = /^#\/p\/([\w-]+)/.exec(hash);
  return match?.[1] ? { page: 'project', projectId: match[1] } : { page: 'projects' };
}

export function navigate(route: Route): void {
  window.location.hash = route.page === 'project' ? `#/p/${route.projectId}` : '#/';
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
