// A tiny static file server for "fresh page" checks of exported models: serves a map of URL paths
// to files or in-memory bytes on 127.0.0.1 (a different origin from the app).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

/** Bytes or text to serve, or `{ file }` to read from disk. */
export type Served = Uint8Array | string | { file: string };

export interface StaticServer {
  url: string;
  files: Map<string, Served>;
  close(): Promise<void>;
}

export async function serveStatic(files: Map<string, Served>): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry = files.get(path);
    if (entry === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = typeof entry === 'object' && 'file' in entry ? readFileSync(entry.file) : entry;
    const ext = path.slice(path.lastIndexOf('.'));
    res.writeHead(200, { 'Content-Type': TYPES[ext] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
