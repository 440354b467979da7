/**
 * The same-origin rule for model fetches: a model URL is resolved against the app's own location
 * (the folder index.html was served from, so the app works under any sub-path) and refused, before
 * any request is made, unless it is http(s) on the app's origin. Protocol-relative URLs (`//host`)
 * resolve to another origin and are refused like any other. `data:` and `blob:` URLs are refused
 * too: a model.json there cannot reach its weight files by relative path, and files from this
 * device come in as files (an IOHandler), never as URLs.
 *
 * In a worker `location` is the worker script, not the page, so the page hands its base to each
 * worker that loads models (`setAppBaseUrl`). Outside a browser (Node scripts and unit tests)
 * there is no app origin: absolute http(s) URLs pass and relative ones cannot be resolved.
 */

/** Thrown for a URL the app will not fetch a model from; `url` is what was asked for. */
export class CrossOriginModelError extends Error {
  readonly url: string;
  constructor(url: string, reason: string) {
    super(reason);
    this.name = 'CrossOriginModelError';
    this.url = url;
  }
}

let configuredBase: string | null = null;

/**
 * Sets the URL relative model paths resolve against (a worker: the page's `document.baseURI`);
 * null goes back to the global location.
 */
export function setAppBaseUrl(url: string | null): void {
  configuredBase = url === null ? null : new URL(url).href;
}

interface BrowserGlobals {
  document?: { baseURI?: string };
  location?: { href?: string };
}

/**
 * The app's base URL: the one a worker was given, else the page's `document.baseURI`, else the
 * global `location` (a worker that was given none); null outside a browser.
 */
export function appBaseUrl(): string | null {
  if (configuredBase !== null) return configuredBase;
  const g = globalThis as BrowserGlobals;
  return g.document?.baseURI ?? g.location?.href ?? null;
}

/**
 * Why `url` may not be fetched as a model (null when it may), resolved against `base`. Pure: the
 * UI uses it to explain a refusal before submitting.
 */
export function sameOriginProblem(url: string, base: string | null = appBaseUrl()): string | null {
  const shown = url.length > 80 ? `${url.slice(0, 77)}...` : url;
  let resolved: URL;
  try {
    resolved = base === null ? new URL(url) : new URL(url, base);
  } catch {
    return base === null
      ? `"${shown}" is not an absolute URL and there is no app location to resolve it against.`
      : `"${shown}" is not a valid URL.`;
  }
  if (resolved.protocol === 'data:' || resolved.protocol === 'blob:') {
    return `Loupe does not load models from ${resolved.protocol} URLs; use a path to model.json files served next to the app.`;
  }
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') {
    return `Loupe loads models over http(s) only, not ${resolved.protocol} ("${shown}").`;
  }
  if (base === null) return null;
  const appOrigin = new URL(base).origin;
  if (resolved.origin !== appOrigin) {
    return (
      `Refused to load a model from ${resolved.origin}: Loupe only fetches models from its own ` +
      `origin (${appOrigin}), so nothing is sent to or loaded from another site. Copy the model ` +
      `files next to the app (e.g. models/my-model/model.json) and use that path.`
    );
  }
  return null;
}

/** `url` resolved to an absolute same-origin URL; throws `CrossOriginModelError` otherwise. */
export function resolveSameOrigin(url: string, base: string | null = appBaseUrl()): string {
  const problem = sameOriginProblem(url, base);
  if (problem !== null) throw new CrossOriginModelError(url, problem);
  return base === null ? new URL(url).href : new URL(url, base).href;
}

function requestUrl(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}

/**
 * `fetch` that checks every request (model.json, each weight file) against the same-origin rule
 * first; the rejection comes before any request leaves.
 */
export function sameOriginFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    const url = resolveSameOrigin(requestUrl(input));
    return typeof input === 'string' || input instanceof URL
      ? fetch(url, init)
      : fetch(input, init);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
