/**
 * The error hierarchy. Every error that crosses a layer carries a stable `code` that callers, tests, the
 * REST API and the wire protocol rely on; the message is for people and may change.
 */
export class AppError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Bad configuration: an unknown key, a wrong type, a value out of range. */
export class ConfigError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'CONFIG_INVALID', message, options);
  }
}

/** A media source failed: unreachable camera, unreadable file, decoder died. */
export class SourceError extends AppError {}

/** A model could not be found, read or initialised, or a backend could not start. */
export class ModelLoadError extends AppError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'MODEL_LOAD_FAILED', message, options);
  }
}

/** An input (image, video, request) that cannot be processed. */
export class InputError extends AppError {}

/** A malformed or unexpected protocol message. */
export class ProtocolError extends AppError {}

/** An object used after `close()` or before it is ready. */
export class InvalidStateError extends AppError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** The error's stable code, or `INTERNAL` for anything that is not ours. */
export function errorCode(err: unknown): string {
  return err instanceof AppError ? err.code : 'INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
