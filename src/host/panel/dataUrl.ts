// Images the webview shows inline (its Content-Security-Policy allows data: images).

/** A JPEG as a data: URL. */
export function jpegDataUrl(jpeg: Uint8Array): string {
  return `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`;
}
