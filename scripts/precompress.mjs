#!/usr/bin/env node
// Writes <file>.br and <file>.gz next to every JavaScript, wasm, CSS and JSON file of a built
// site's pkg directory, so the server answers a browser with the compressed variant it accepts
// without compressing per request (server/src/assets.rs). A variant newer than its file is kept;
// a variant whose file is gone is removed.
//
//   scripts/precompress.mjs <site>/pkg          # Brotli 11 and gzip 9 (release)
//   scripts/precompress.mjs --fast <site>/pkg   # Brotli 5 and gzip 6 (debug builds, for tests)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const dir = args.find((arg) => !arg.startsWith('--'));
if (!dir) {
  console.error('usage: precompress.mjs [--fast] <site>/pkg');
  process.exit(2);
}

const compressible = /\.(js|wasm|css|json)$/;
const variants = {
  '.br': (bytes) =>
    zlib.brotliCompressSync(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: fast ? 5 : 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_GENERIC,
      },
    }),
  '.gz': (bytes) => zlib.gzipSync(bytes, { level: fast ? 6 : 9 }),
};

let written = 0;
for (const name of fs.readdirSync(dir)) {
  const file = path.join(dir, name);
  const suffix = Object.keys(variants).find((ext) => name.endsWith(ext));
  if (suffix) {
    if (!fs.existsSync(file.slice(0, -suffix.length))) fs.rmSync(file);
    continue;
  }
  if (!compressible.test(name)) continue;
  const source = fs.statSync(file);
  let bytes;
  for (const [ext, compress] of Object.entries(variants)) {
    const target = file + ext;
    if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= source.mtimeMs) continue;
    bytes ??= fs.readFileSync(file);
    const packed = compress(bytes);
    fs.writeFileSync(target, packed);
    written += 1;
    console.log(`${name}${ext}: ${bytes.length} -> ${packed.length} bytes`);
  }
}
console.log(`precompress: ${written} variant(s) written in ${dir}`);
