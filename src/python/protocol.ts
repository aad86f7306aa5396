// The JSON-lines protocol of the Python helper (python/cnn_lens_torch.py): one request per line on its stdin,
// one answer per line on its stdout. Keys are snake_case, as Python writes them and the CLI prints them.

/** A tensor shape as PyTorch reports it. */
export type Shape = number[];

/** Constructor arguments: a list is positional, an object keywords (JSON values only). */
export type ConstructorArgs = unknown[] | Record<string, unknown>;

/** What to analyse: a class in a Python file, built with these arguments and run on zeros of this shape. */
export interface AnalysisRequest {
  /** The Python file (absolute, or relative to the helper's working folder). */
  file: string;
  /** The nn.Module subclass to construct. */
  class: string;
  /** Input shape; default: the `# cnn-lens: input=…` comment above the class, else [1, 3, 224, 224]. */
  input?: Shape;
  /** Constructor arguments; default: the comment's `args=(…)`, else none. */
  args?: ConstructorArgs;
  /** The user's folders (workspace roots): source lines and error lines are taken from files under them
   *  (never from installed packages). Default: the model file's folder. */
  roots?: string[];
  /** Where to write the ONNX export; without it the helper only records modules and shapes. */
  onnx?: string;
}

/** A request line as sent: an analysis with the runner's id, or a probe (imports torch, answers versions). */
export type RequestLine = (AnalysisRequest & { id: number; op?: 'analyse' }) | { id: number; op: 'probe' };

/** A line of the user's code: absolute file, 1-based line. */
export interface SourceLine {
  file: string;
  line: number;
}

/** One module of the constructed model (named_modules() order: parents before children). */
export interface ModuleRecord {
  /** Dotted path ('layer1.0.conv1'); '' for the model itself. */
  path: string;
  /** Its class name (Conv2d, Sequential, the user's own classes). */
  type: string;
  /** The innermost line in the user's files of the call that constructed it; for the model itself, the
   *  class definition; null when no user code was on the stack (a module made inside a library). */
  source: SourceLine | null;
  /** Parameters of the module and its children, each counted once. */
  params: number;
  /** Whether it has no child modules. */
  leaf: boolean;
}

/** One call of a module's forward, recorded by hooks, in the order the calls started. */
export interface CallRecord {
  path: string;
  type: string;
  /** Shape of the first tensor argument; null when none was a tensor. */
  in_shape: Shape | null;
  /** Shape of the first tensor of the output; null while running or when the call failed. */
  out_shape: Shape | null;
}

/** Where an analysis failed, by stage. */
export type HelperErrorKind =
  | 'no-torch' // the interpreter cannot import torch
  | 'syntax' // a SyntaxError in the model file or a file it imports
  | 'import' // an exception while importing the model file
  | 'no-class' // the file has no such nn.Module class
  | 'arguments' // constructor arguments missing or not accepted, or an unreadable `# cnn-lens:` comment
  | 'construct' // an exception in the constructor
  | 'forward' // an exception in the forward pass (calls holds the modules that ran)
  | 'export' // the ONNX export failed after a forward pass that worked
  | 'request' // a malformed request
  | 'cancelled' // interrupted by the runner (cancellation or time limit)
  | 'internal'; // a bug in the helper itself (message: its traceback)

/** An error with its innermost line in the user's files (SyntaxErrors: their own file and line). */
export interface HelperError {
  kind: HelperErrorKind;
  message: string;
  file: string | null;
  line: number | null;
  /** For 'forward': the innermost module whose forward was running (its path), else null. */
  module: string | null;
}

/** The helper's answer to an analysis request. Fields past `versions` are present once that stage ran. */
export interface AnalysisResult {
  id: number | null;
  ok: boolean;
  error: HelperError | null;
  /** What was recorded before any failure: modules once constructed, calls once the forward started. */
  modules: ModuleRecord[];
  calls: CallRecord[];
  /** Notes to show (a tuple output and which tensor was followed; parameters the forward never used). */
  notes: string[];
  /** The ONNX file written, or null. */
  onnx: string | null;
  versions: { python: string; torch: string | null };
  /** The model file (resolved) and the class's definition line (null when the class is missing). */
  file?: string;
  class?: string;
  line?: number | null;
  input?: Shape;
  input_from?: 'request' | 'comment' | 'default';
  args_from?: 'request' | 'comment' | 'default';
  /** sum(p.numel() for p in model.parameters()). */
  parameters?: number;
  /** Floating-point buffers (BatchNorm running statistics). */
  buffers?: number;
  /** Shape of the tensor the table follows (the first tensor of a tuple or dict output). */
  output_shape?: Shape;
  /** Milliseconds: importing torch (0 when warm), importing and constructing the model, the forward pass
   *  (traced into the export when one was asked for). */
  ms?: { import: number; construct?: number; run?: number };
}
