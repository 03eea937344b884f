import { OutputError } from '../errors.js';

interface WriteFailure {
  /** What happened, in words, as the message says it after the file name. */
  words: string;
  /** What the user can change. */
  hint: string;
}

const ELSEWHERE = 'or write to another folder';

/** The system error codes a write can fail with, in words, each with a hint that is true for it. */
const FAILURES: Record<string, WriteFailure> = {
  ENOSPC: { words: 'no space left on device', hint: `free space on that device ${ELSEWHERE}` },
  EDQUOT: { words: 'disk quota exceeded', hint: `free space within your quota ${ELSEWHERE}` },
  EFBIG: { words: 'file too large for this file system', hint: 'write to a file system that allows larger files' },
  EACCES: { words: 'permission denied', hint: `check the permissions of the file and its folder ${ELSEWHERE}` },
  EPERM: { words: 'operation not permitted', hint: `check the permissions of the file and its folder ${ELSEWHERE}` },
  EROFS: { words: 'read-only file system', hint: 'choose a folder on a writable file system' },
  EISDIR: { words: 'is a folder, not a file', hint: 'name a file inside that folder' },
  ENOTDIR: { words: 'a part of the path is not a folder', hint: 'check the path' },
  ENOENT: { words: 'its folder does not exist', hint: 'create the folder first (mkdir -p) or check the path' },
  EIO: { words: 'input/output error from the device', hint: 'the disk or network file system reported a fault; check it and retry' },
  EMFILE: { words: 'too many open files', hint: 'raise the open-file limit (ulimit -n) and retry' },
  ENFILE: { words: 'too many open files in the system', hint: 'close other programs or raise the system limit, and retry' },
  ENAMETOOLONG: { words: 'file name too long', hint: 'choose a shorter name' },
  ELOOP: { words: 'too many symbolic links in the path', hint: 'check the links in the path' },
  EXDEV: { words: 'cannot move the finished file across file systems', hint: 'write into a folder on one file system' },
  EBUSY: { words: 'the file is busy', hint: 'close the program using it and retry' },
  ETXTBSY: { words: 'the file is busy', hint: 'close the program using it and retry' },
  EPIPE: { words: 'the reader closed the pipe', hint: 'keep the reading program open until the run ends' },
};

/** The words and hint for a system error code when it is one a write can fail with. */
export function describeWriteFailure(code: string | undefined): WriteFailure | undefined {
  return code === undefined ? undefined : FAILURES[code];
}

/** The system error code of `error` (`ENOSPC`, ...), when it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * `error` as one `OutputError` naming `file`: a system error becomes its words and hint, an
 * `OutputError` passes through, anything else keeps its message. Callers wrap every failure of
 * writing, renaming or syncing an output so the CLI prints one line, never a stack.
 */
export function toOutputError(file: string, error: unknown): OutputError {
  if (OutputError.isInstance(error)) return error;
  const code = errnoCode(error);
  const known = describeWriteFailure(code);
  if (known) return new OutputError(file, `cannot write: ${known.words} (${code})`, { hint: known.hint, cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new OutputError(file, `cannot write: ${message.split('\n')[0]}`, {
    hint: 'check that the folder exists and is writable, or write elsewhere',
    cause: error,
  });
}
