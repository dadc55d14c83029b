/** The weight-size text every quantization pass puts in its notes. */

/** e.g. "1.23 MB -> 0.33 MB", from initializer bytes before and after a pass. */
export function sizeChange(beforeBytes: number, afterBytes: number): string {
  return `${mb(beforeBytes)} -> ${mb(afterBytes)}`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
