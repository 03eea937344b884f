import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { relative, resolve, sep } from 'node:path';

/** One request the server answered, for tests to assert on (e.g. that a resume sent a Range). */
export interface ServedRequest {
  path: string;
  range?: string;
  status: number;
}

/**
 * A local HTTP mirror of a models folder on 127.0.0.1, for testing downloads without the network.
 * Paths are the files' paths under `root`; `/redirect/<path>` answers 302 to `/<path>` (as GitHub's
 * raw URLs do). The switches make it misbehave per file path (relative to `root`, `/`-separated).
 */
export interface ModelServer {
  /** `http://127.0.0.1:<port>/`, with the trailing slash. */
  url: string;
  requests: ServedRequest[];
  /** Paths served with one byte flipped (in the middle of the file). */
  corrupt: Set<string>;
  /** Paths whose next full or ranged response is cut after this many body bytes; used once. */
  cutAfter: Map<string, number>;
  /** Answer Range requests with 200 and the whole file, as some servers do. */
  ignoreRange: boolean;
  close(): Promise<void>;
}

export async function startModelServer(root: string): Promise<ModelServer> {
  const base = resolve(root);
  const state = {
    requests: [] as ServedRequest[],
    corrupt: new Set<string>(),
    cutAfter: new Map<string, number>(),
    ignoreRange: false,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const range = req.headers.range;
    const record = (status: number) => state.requests.push({ path, ...(range ? { range } : {}), status });
    if (path.startsWith('/redirect/')) {
      record(302);
      res.writeHead(302, { location: path.slice('/redirect'.length) }).end();
      return;
    }
    path = path.replace(/^\/+/, '');
    const file = resolve(base, path);
    const inside = relative(base, file);
    let bytes: Buffer;
    try {
      if (inside.startsWith('..') || inside.startsWith(sep)) throw new Error('outside');
      bytes = await fs.readFile(file);
    } catch {
      record(404);
      res.writeHead(404).end('not found');
      return;
    }
    if (state.corrupt.has(path)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    let start = 0;
    let status = 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && !state.ignoreRange) {
      start = Number(match[1]);
      if (start >= bytes.length) {
        record(416);
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    const body = bytes.subarray(start);
    headers['content-length'] = body.length;
    record(status);
    res.writeHead(status, headers);
    const cut = state.cutAfter.get(path);
    if (cut !== undefined && cut < body.length) {
      state.cutAfter.delete(path);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    get requests() {
      return state.requests;
    },
    corrupt: state.corrupt,
    cutAfter: state.cutAfter,
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(value: boolean) {
      state.ignoreRange = value;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
