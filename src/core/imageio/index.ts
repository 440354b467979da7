/**
 * Public API of image I/O: format sniffing from header bytes, admission limits and rejection
 * reasons, and content hashing. Plain TypeScript; runs in pages, Web Workers and Node.
 */
export { MIME_BY_FORMAT, sniffImage, sniffUnsupported } from './sniff';
export type { ImageFormat, ImageHeader, UnsupportedImage } from './sniff';
export {
  MAX_FILE_BYTES,
  MAX_PIXELS,
  checkDecoded,
  checkFile,
  describeDecodeError,
  formatBytes,
} from './validate';
export type { DecodedCheck, FileCheck, FileCheckInput, RejectCode, Rejection } from './validate';
export { sha256Hex } from './hash';
