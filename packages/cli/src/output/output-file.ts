import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { type AtomicFile, InvalidArgumentError, OutputError, openAtomicFile, toOutputError } from '@metaspliceai/core';
import { createBgzfStream } from '@metaspliceai/genomics';

/** An input a command reads, as the user named it (`-I in.vcf`), for the same-file check. */
export interface NamedInput {
  /** The option that named it (`-I`, `--fasta`, `the input`). */
  flag: string;
  /** The path as the user gave it, for messages. */
  name: string;
  /** The absolute path. */
  path: string;
}

/** An absolute path plus how the user named it (`-O out.vcf`). */
export interface NamedOutput {
  flag: string;
  name: string;
  path: string;
}

/** device+inode of a file that exists, else the real folder + name of one that does not yet. */
async function identity(path: string): Promise<string | undefined> {
  const stat = await fs.stat(path).catch(() => undefined);
  if (stat) return `inode:${stat.dev}:${stat.ino}`;
  const folder = await fs.realpath(dirname(path)).catch(() => undefined);
  return folder === undefined ? undefined : `path:${join(folder, basename(path))}`;
}

/**
 * Refuses an output that is one of the inputs: the same device and inode (so a symlink or hard link
 * is caught), or for an output that does not exist yet, the same real folder and name. Writing the
 * output would destroy the input it is being computed from.
 */
export async function refuseOutputOverInput(output: NamedOutput, inputs: readonly (NamedInput | undefined)[]): Promise<void> {
  const out = await identity(output.path);
  if (out === undefined) return;
  for (const input of inputs) {
    if (!input) continue;
    if ((await identity(input.path)) === out) {
      throw new InvalidArgumentError(`${output.flag} ${output.name} is the same file as ${input.flag} ${input.name}: writing it would destroy the input`, {
        hint: `write the output to another file name (inputs are never overwritten)`,
      });
    }
  }
}

/**
 * Checks a user-named output file before any slow work: not an input, not a folder, its folder
 * exists (the CLI never creates folders for a file the user named: a typo in the path should not
 * make a new tree), and a file can be created there (a probe temp file, removed at once). The real
 * file is opened later with `openOutputFile`.
 */
export async function checkOutputFile(output: NamedOutput, inputs: readonly (NamedInput | undefined)[]): Promise<void> {
  await refuseOutputOverInput(output, inputs);
  const stat = await fs.stat(output.path).catch(() => undefined);
  if (stat?.isDirectory()) {
    throw new OutputError(output.path, 'cannot write: it is a folder, not a file', { hint: `name a file inside it, e.g. ${join(output.name, 'out')}` });
  }
  const probe = await openAtomicFile(output.path);
  await probe.abort();
}

/** An output file being written: appears under its name only when `commit()` succeeds. */
export interface OutputFile {
  /** Where the command writes (a bgzip stream in front of the file for `.gz`). */
  readonly stream: Writable;
  readonly path: string;
  /** Ends the stream, waits for the last byte (and the bgzip EOF block) to reach the disk, renames. */
  commit(): Promise<void>;
  /** Removes the unfinished file; an earlier file under the same name stays as it was. */
  abort(): Promise<void>;
  /**
   * The error to report for a failure while writing: the file's own `OutputError` (ENOSPC, EIO)
   * when it has one, since the writer may only see "stream closed" after it.
   */
  failure(error: unknown): unknown;
}

/** Opens `path` through a temp file beside it; `bgzip` puts a BGZF compressor in front. */
export async function openOutputFile(path: string, options: { bgzip?: boolean } = {}): Promise<OutputFile> {
  const file: AtomicFile = await openAtomicFile(resolve(path));
  const ownError = () => file.stream.errored ?? undefined;
  if (!options.bgzip) {
    return {
      stream: file.stream,
      path: file.path,
      commit: () => file.commit(),
      abort: () => file.abort(),
      failure: (error) => ownError() ?? error,
    };
  }
  const bgzf = createBgzfStream();
  const piped = pipeline(bgzf, file.stream);
  piped.catch(() => {}); // reported through commit() or failure()
  return {
    stream: bgzf,
    path: file.path,
    commit: async () => {
      if (!bgzf.writableEnded) bgzf.end();
      try {
        await piped; // the EOF block is in the file
      } catch (error) {
        await file.abort();
        throw toOutputError(path, ownError() ?? error);
      }
      await file.commit();
    },
    abort: async () => {
      bgzf.destroy();
      await file.abort();
    },
    failure: (error) => ownError() ?? error,
  };
}
