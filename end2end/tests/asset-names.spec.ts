// A name under /pkg is cached by browsers for a year as immutable, so it must never come to hold
// other bytes. cargo-leptos names the script, the wasm and the split loader, then rewrites them
// to name each other; scripts/hash-names.mjs (run by `make build` and `make e2e`) names them
// anew after that. Checked here on the site this server serves, and on a made-up site where only
// the split loader changes between two builds, as it does whenever a lazy chunk changes.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(root, 'scripts', 'hash-names.mjs');

const md5 = (bytes: string | Buffer) => crypto.createHash('md5').update(bytes).digest('base64url');

function readHashes(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => line.split(':').map((part) => part.trim())),
  );
}

test('every hashed file this server serves is named after what it holds', () => {
  const bin = process.env.KNOCK_BIN ?? path.join(root, 'target', 'debug', 'knock');
  const hashFile = path.join(path.dirname(bin), 'hash.txt');
  const pkg = path.join(process.env.LEPTOS_SITE_ROOT ?? path.join(root, 'target', 'site'), 'pkg');
  expect(fs.existsSync(hashFile), `${hashFile} (the build names its files)`).toBe(true);
  const check = spawnSync('node', [script, '--check', pkg, hashFile], { encoding: 'utf8' });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
  const hashes = readHashes(hashFile);
  expect(hashes.wasm, 'the script and the wasm share one name').toBe(hashes.js);
});

/** A site as cargo-leptos leaves it: three files that name each other, under names that were
 * hashed before the loader's own name was. `chunks` is what the loader lists, `shared` the
 * wasm's shared exports in the order this build happened to write them. */
function builtSite(dir: string, chunks: string[], shared = ['memory', 'table', 'shared0']): string {
  const pkg = path.join(dir, 'pkg');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(pkg, { recursive: true });
  const chunkNames = chunks.map((body, i) => {
    const name = `chunk_${i}.${md5(body)}.wasm`;
    fs.writeFileSync(path.join(pkg, name), body);
    return name;
  });
  const names = shared.map((name) => `${name}, `).join('');
  const loaderBody = (main: string) =>
    `import { initSync } from "./${main}";\n` +
    `const { ${names} } = initSync(undefined, undefined);\n` +
    `Object.assign(sharedImports.__wasm_split, { ${names} });\n` +
    `export const chunks = ${JSON.stringify(chunkNames)};\n`;
  // cargo-leptos' names for the script and the wasm do not depend on the loader's.
  const js = 'knock.Yh-gfknOp8bwzacuMdiB4A.js';
  const wasm = 'knock.DivfEoqnnE1fz9UJn3aYtg.wasm';
  const loader = `__wasm_split.${md5(loaderBody(js))}.js`;
  const glue =
    `import * as split from "./${loader}";\n` +
    `const imports = { "./knock_bg.js": { __proto__: null, ${BINDING}: function() {} } };\n` +
    `export default split;\n`;
  fs.writeFileSync(path.join(pkg, js), glue);
  fs.writeFileSync(path.join(pkg, loader), loaderBody(js));
  fs.writeFileSync(path.join(pkg, wasm), madeUpWasm(loader));
  const css = 'body { margin: 0 }\n';
  fs.writeFileSync(path.join(pkg, `knock.${md5(css)}.css`), css);
  const manifest = JSON.stringify({ route: chunkNames });
  const manifestHash = 'BVxF9ozozdbVPa7R-__-Ug'; // named before the chunk names were filled in
  fs.writeFileSync(path.join(pkg, `__wasm_split_manifest.${manifestHash}.json`), manifest);
  const hashFile = path.join(dir, 'hash.txt');
  fs.writeFileSync(
    hashFile,
    `js: ${js.split('.')[1]}\nwasm: ${wasm.split('.')[1]}\ncss: ${md5(css)}\n` +
      `manifest: ${manifestHash}\nsplit: ${loader.split('.')[1]}\n`,
  );
  return hashFile;
}

/** A binding the made-up script gives the made-up wasm, under wasm-bindgen's kind of name. */
const BINDING = '__wbg_log_0123456789abcdef';

/** `text` as a wasm name: its length (under 128), then its UTF-8 bytes. */
const wasmText = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text)]);

/** A wasm module that imports `BINDING` from the script and names `loader` (a custom section). */
function madeUpWasm(loader: string): Buffer {
  const section = (id: number, content: Buffer) =>
    Buffer.concat([Buffer.from([id, content.length]), content]);
  return Buffer.concat([
    Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    section(1, Buffer.from([1, 0x60, 0, 0])), // one type: () -> ()
    // One import: a function of type 0.
    section(
      2,
      Buffer.concat([
        Buffer.from([1]),
        wasmText('./knock_bg.js'),
        wasmText(BINDING),
        Buffer.from([0, 0]),
      ]),
    ),
    section(0, Buffer.concat([wasmText('loader'), Buffer.from(loader)])),
  ]);
}

/** Runs hash-names.mjs over the site of `hashFile`; the files' names, by hash.txt's entry. */
function renamed(hashFile: string): Record<string, string> {
  execFileSync('node', [script, path.join(path.dirname(hashFile), 'pkg'), hashFile]);
  return readHashes(hashFile);
}

test('a loader that changes gives the script and the wasm that name it new names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'knock-names-'));
  try {
    const site = path.join(dir, 'site');
    const pkg = path.join(site, 'pkg');
    const hashFile = builtSite(site, ['one chunk']);
    const check = () => spawnSync('node', [script, '--check', pkg, hashFile]).status;
    expect(check(), 'cargo-leptos leaves names that do not fit').toBe(1);

    const first = renamed(hashFile);
    expect(check()).toBe(0);
    expect(first.js).toBe(first.wasm);
    expect(first.split).toBe(first.js);
    const manifest = path.join(pkg, `__wasm_split_manifest.${first.manifest}.json`);
    expect(first.manifest).toBe(md5(fs.readFileSync(manifest)));
    const glue = fs.readFileSync(path.join(pkg, `knock.${first.js}.js`), 'utf8');
    expect(glue).toContain(`"./__wasm_split.${first.split}.js"`);
    const loader = fs.readFileSync(path.join(pkg, `__wasm_split.${first.split}.js`), 'utf8');
    expect(loader).toContain(`"./knock.${first.js}.js"`);
    const wasm = fs.readFileSync(path.join(pkg, `knock.${first.wasm}.wasm`));
    expect(wasm.includes(`__wasm_split.${first.split}.js`)).toBe(true);
    // The wasm's import from the script has a short name, in both.
    expect(wasm.includes(BINDING), "wasm-bindgen's name in the wasm").toBe(false);
    expect(wasm.includes(wasmText('w0')), 'the short name in the wasm').toBe(true);
    expect(glue).not.toContain(BINDING);
    expect(glue).toContain('w0: function');
    // Compiled whole as it streams in (V8's hint), once however often the script runs.
    expect(glue.startsWith('//# allFunctionsCalledOnLoad\n')).toBe(true);
    expect(glue.split('allFunctionsCalledOnLoad')).toHaveLength(2);
    expect(new WebAssembly.Module(wasm), 'still a valid module').toBeDefined();
    const files = fs.readdirSync(pkg).sort();
    expect(renamed(hashFile), 'a second run changes nothing').toEqual(first);
    expect(fs.readdirSync(pkg).sort()).toEqual(files);

    // The same build again: the same names, so browsers keep what they have; even when the
    // loader lists the shared exports in another order, as two builds of one source do.
    expect(renamed(builtSite(site, ['one chunk']))).toEqual(first);
    expect(renamed(builtSite(site, ['one chunk'], ['shared0', 'memory', 'table']))).toEqual(first);
    expect(fs.readFileSync(path.join(pkg, `__wasm_split.${first.split}.js`), 'utf8')).toBe(loader);

    // Only a chunk changed, so only the loader's own name did in cargo-leptos' output.
    const next = renamed(builtSite(site, ['another chunk']));
    expect(next.js).not.toBe(first.js);
    expect(next.wasm).not.toBe(first.wasm);
    expect(next.split).not.toBe(first.split);
    expect(next.css).toBe(first.css);
    expect(check()).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
