// A plain static server for deploy checks: serves a build folder under a sub-path (e.g.
// /tools/loupe/) with nothing but Content-Type, as a bare static host would (no COOP/COEP, no
// CSP header), and a request counter standing in for "another origin".
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

export interface PlainServer {
  /** Origin plus prefix, without a trailing slash, e.g. http://127.0.0.1:1234/tools/loupe */
  url: string;
  /** Every request path this server received. */
  requests: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * Serves `root` under `prefix` ('/tools/loupe/'), plus `extra` scripts by exact path; anything
 * else is a 404.
 */
export async function serveUnder(
  root: string,
  prefix: string,
  extra: Map<string, string> = new Map(),
): Promise<PlainServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    const script = extra.get(pathname);
    if (script !== undefined) {
      res.writeHead(200, { 'Content-Type': TYPES['.js'] ?? '' }).end(script);
      return;
    }
    const rel = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : null;
    const file = rel === null ? null : path.join(root, rel === '' ? 'index.html' : rel);
    if (file === null || !file.startsWith(path.resolve(root))) {
      res.writeHead(404).end('not found');
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, {
            'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
          })
          .end(body),
      () => res.writeHead(404).end('not found'),
    );
  });
  const origin = await listen(server);
  return { url: `${origin}${prefix.replace(/\/$/, '')}`, requests, close: closer(server) };
}

/** A server that answers 404 to everything and records what it was asked for. */
export async function countingServer(): Promise<PlainServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(404).end('not found');
  });
  return { url: await listen(server), requests, close: closer(server) };
}
