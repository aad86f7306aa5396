/** Where a CLI command writes; tests pass collectors, the CLI passes process streams. */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}
