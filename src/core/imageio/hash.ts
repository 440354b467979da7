/**
 * Content hashing for imported files: SHA-256 via Web Crypto (`crypto.subtle`), available in
 * browser pages, Web Workers and Node 20+ alike. Used to detect duplicate images.
 */

/** Lowercase hex SHA-256 of the bytes (a view hashes only its own window of the buffer). */
export async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  let bytes: ArrayBuffer | Uint8Array<ArrayBuffer>;
  if (data instanceof ArrayBuffer) {
    bytes = data;
  } else {
    const buffer = data.buffer;
    // Web Crypto refuses views onto a SharedArrayBuffer; copy those into a plain buffer.
    bytes =
      buffer instanceof ArrayBuffer
        ? new Uint8Array(buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
