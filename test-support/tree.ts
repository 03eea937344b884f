import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Creates a temp folder with the given files (path -> contents); returns its path. */
export async function makeTree(files: Record<string, string>): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-test-'));
  for (const [path, contents] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, path)), { recursive: true });
    await fs.writeFile(join(root, path), contents);
  }
  return root;
}

export const mock = (context: number) => JSON.stringify({ context });
