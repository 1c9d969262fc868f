export type ElfErrorCode = 'NOT_FOUND' | 'NOT_A_FILE' | 'PERMISSION' | 'NOT_ELF' | 'TRUNCATED' | 'MALFORMED' | 'IO';

/** The one error type the ELF reader rejects with; `message` is a single line that names the file. */
export class ElfReadError extends Error {
  override readonly name = 'ElfReadError';

  constructor(
    readonly code: ElfErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isElfReadError(error: unknown): error is ElfReadError {
  return error instanceof ElfReadError;
}
