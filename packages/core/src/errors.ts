/**
 * Errors a user can act on. Every error carries a stable `code`, says what was expected, what was
 * found and what to do next. `isInstance` works across duplicate copies of this package (a
 * `Symbol.for` brand), where `instanceof` would not.
 */
const BRAND = Symbol.for('metaspliceai.error');

export interface ErrorOptions {
  cause?: unknown;
  /** A one-line suggestion of what to do next, shown by the CLI under the message. */
  hint?: string;
}

export class MetaSpliceAIError extends Error {
  readonly [BRAND] = true;
  readonly code: string;
  readonly hint?: string;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  static isInstance(error: unknown): error is MetaSpliceAIError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Brands a subclass so `Sub.isInstance(x)` checks the code, not the prototype chain. */
function codeCheck<T extends MetaSpliceAIError>(code: string) {
  return (error: unknown): error is T => MetaSpliceAIError.isInstance(error) && error.code === code;
}

/** An options object, CLI argument or API argument is out of range or malformed. */
export class InvalidArgumentError extends MetaSpliceAIError {
  static readonly code = 'E_INVALID_ARGUMENT';
  static override isInstance = codeCheck<InvalidArgumentError>(InvalidArgumentError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(InvalidArgumentError.code, message, options);
  }
}

/** An adapter failed the checks `manager.register` makes (shape, spec version, duplicate id). */
export class AdapterRegistrationError extends MetaSpliceAIError {
  static readonly code = 'E_ADAPTER_REGISTRATION';
  static override isInstance = codeCheck<AdapterRegistrationError>(AdapterRegistrationError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(AdapterRegistrationError.code, message, options);
  }
}

/** No model set matches a request; the message lists what does exist. */
export class ModelNotFoundError extends MetaSpliceAIError {
  static readonly code = 'E_MODEL_NOT_FOUND';
  static override isInstance = codeCheck<ModelNotFoundError>(ModelNotFoundError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(ModelNotFoundError.code, message, options);
  }
}

/** Several model sets match a request; the message lists them and the option that picks one. */
export class AmbiguousModelError extends MetaSpliceAIError {
  static readonly code = 'E_AMBIGUOUS_MODEL';
  static override isInstance = codeCheck<AmbiguousModelError>(AmbiguousModelError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(AmbiguousModelError.code, message, options);
  }
}

/** A model file is truncated, corrupt, or not the architecture its adapter understands. */
export class ModelFileError extends MetaSpliceAIError {
  static readonly code = 'E_MODEL_FILE';
  static override isInstance = codeCheck<ModelFileError>(ModelFileError.code);
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(ModelFileError.code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/**
 * A model file asks for something a safe reader refuses (a pickle global outside the allowlist, a
 * path outside its archive, a tensor that overruns its storage). Nothing in the file was run.
 */
export class UnsafeModelFileError extends MetaSpliceAIError {
  static readonly code = 'E_UNSAFE_MODEL_FILE';
  static override isInstance = codeCheck<UnsafeModelFileError>(UnsafeModelFileError.code);
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(UnsafeModelFileError.code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A `metadata/model_info.json` file is unreadable, invalid, or disagrees with the files it lists. */
export class MetadataError extends MetaSpliceAIError {
  static readonly code = 'E_METADATA';
  static override isInstance = codeCheck<MetadataError>(MetadataError.code);
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(MetadataError.code, `${file}: ${message}`, options);
    this.file = file;
  }
}

/** An optional runtime package (onnxruntime-node, TensorFlow.js, ...) is not installed. */
export class RuntimeMissingError extends MetaSpliceAIError {
  static readonly code = 'E_RUNTIME_MISSING';
  static override isInstance = codeCheck<RuntimeMissingError>(RuntimeMissingError.code);
  readonly packageName: string;
  constructor(packageName: string, purpose: string, options?: ErrorOptions) {
    super(RuntimeMissingError.code, `${purpose} needs the package ${packageName}, which is not installed`, {
      hint: `install it next to the adapter: pnpm add ${packageName}  (or npm install ${packageName})`,
      ...options,
    });
    this.packageName = packageName;
  }
}

/** The requested device or backend is not available in this installation. */
export class DeviceUnavailableError extends MetaSpliceAIError {
  static readonly code = 'E_DEVICE_UNAVAILABLE';
  static override isInstance = codeCheck<DeviceUnavailableError>(DeviceUnavailableError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(DeviceUnavailableError.code, message, options);
  }
}

/** A user input (sequence, FASTA, region, annotation, VCF) is malformed; names the file and record. */
export class InputError extends MetaSpliceAIError {
  static readonly code = 'E_INPUT';
  static override isInstance = codeCheck<InputError>(InputError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(InputError.code, message, options);
  }
}

/** A download failed its checksum or could not be completed. */
export class DownloadError extends MetaSpliceAIError {
  static readonly code = 'E_DOWNLOAD';
  static override isInstance = codeCheck<DownloadError>(DownloadError.code);
  constructor(message: string, options?: ErrorOptions) {
    super(DownloadError.code, message, options);
  }
}

/**
 * An output file (or stdout) could not be written: no space, no permission, a read-only file
 * system, a missing folder. Names the file and says in words what happened; the hint is what the
 * user can change. A file under its final name is never left partly written.
 */
export class OutputError extends MetaSpliceAIError {
  static readonly code = 'E_OUTPUT';
  static override isInstance = codeCheck<OutputError>(OutputError.code);
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(OutputError.code, `${file}: ${message}`, options);
    this.file = file;
  }
}
