/** Showing stored photos: their bytes as `data:` URLs (the window's CSP allows `data:` images). */

/** The image type from the first bytes (JPEG, PNG, GIF, WebP), for the data URL. */
export function sniffImageType(bytes: Uint8Array): string {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return "image/webp";
  return "application/octet-stream";
}

export function dataUrl(bytes: Uint8Array, type = sniffImageType(bytes)): string {
  let bin = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return `data:${type};base64,${btoa(bin)}`;
}
