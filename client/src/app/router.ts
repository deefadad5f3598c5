import { useEffect, useState } from 'react';

/** Three screens, so a 30-line router: `/`, `/sessions/:id`, `/sessions/:id/scans/:scanId`. */
export type Route =
  | { readonly name: 'sessions' }
  | { readonly name: 'session'; readonly sessionId: string; readonly scanId: string | undefined };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'sessions' && parts[1]) {
    return { name: 'session', sessionId: parts[1], scanId: parts[2] === 'scans' ? parts[3] : undefined };
  }
  return { name: 'sessions' };
}

export function routePath(route: Route): string {
  if (route.name === 'sessions') return '/';
  const base = `/sessions/${encodeURIComponent(route.sessionId)}`;
  return route.scanId ? `${base}/scans/${encodeURIComponent(route.scanId)}` : base;
}

export function navigate(route: Route, replace = false): void {
  const path = routePath(route);
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.pathname));
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return route;
}
