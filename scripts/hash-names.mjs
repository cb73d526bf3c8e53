#!/usr/bin/env node
// Names the site's script, wasm and split loader after what they hold, once `cargo leptos build`
// is done with them. The server answers every hashed name under /pkg as immutable for a year
// (server/src/assets.rs), so a name must never come to hold other bytes. cargo-leptos names each
// file after its content (an MD5, `hash-files`) but then rewrites three of them:
//
// - the script (`knock.<hash>.js`) imports the split loader (`__wasm_split.<hash>.js`), and the
//   main wasm imports from it too, under a name that is only hashed afterwards;
// - the loader imports the script back, and the split manifest lists the chunks' final names.
//
// The loader's name changes with every change to any chunk (and between two builds of the same
// source), while the script and the wasm keep theirs: a returning visitor's cached script then
// imports a loader the server no longer has, or its cached wasm asks for imports the new script
// does not give, and the page never hydrates. This script gives the three one name, the MD5 of
// their contents with their own names blanked out (they name each other, so no file's hash can
// cover another's), after putting the one list the loader writes in a varying order in a fixed
// one; it renames the manifest after its content, and rewrites the hash file the server reads.
// Every other hashed file (the stylesheet, the chunks) must already be named after its content.
// Before naming them, it gives the main wasm's imports from the script short names, in both
// (`shortenImports`), and asks browsers to compile the script whole as it arrives
// (`compileWhole`). Running it again changes nothing.
//
//   scripts/hash-names.mjs <site>/pkg <hash.txt>           # rename, rewrite hash.txt
//   scripts/hash-names.mjs --check <site>/pkg <hash.txt>   # exit 1 if a name does not fit
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const HASH = /^[A-Za-z0-9_-]{22}$/;
const BLANK = '_'.repeat(22);
/** The three files that name each other, in the order their contents are hashed. */
const LINKED = ['js', 'split', 'wasm'];

const md5 = (...parts) => {
  const digest = crypto.createHash('md5');
  for (const part of parts) digest.update(part);
  return digest.digest('base64url');
};

/** `buffer` with every occurrence of `from` replaced by `to` (byte strings, any length). */
function replaceAll(buffer, from, to) {
  const needle = Buffer.from(from);
  const pieces = [];
  let start = 0;
  for (let at = buffer.indexOf(needle); at >= 0; at = buffer.indexOf(needle, start)) {
    pieces.push(buffer.subarray(start, at), Buffer.from(to));
    start = at + needle.length;
  }
  if (start === 0) return buffer;
  pieces.push(buffer.subarray(start));
  return Buffer.concat(pieces);
}

/**
 * The loader's text with the wasm's shared exports in one order. wasm-split lists them (twice,
 * `const { memory, __indirect_function_table, ... } = initSync(...)` and the `Object.assign`
 * after it) in whatever order a hash map gives, which changes from one build of the same source
 * to the next; sorted, an unchanged site keeps its names, and browsers what they cached.
 */
function sortSharedNames(bytes) {
  const sorted = (names) =>
    names
      .split(', ')
      .filter(Boolean)
      .sort()
      .map((name) => `${name}, `)
      .join('');
  const text = bytes
    .toString('utf8')
    .replace(/(const \{ )((?:[\w$]+, )+)( \} = initSync\()/g, (_, open, names, close) =>
      `${open}${sorted(names)}${close}`,
    )
    .replace(
      /(Object\.assign\(sharedImports\.__wasm_split, \{ )((?:[\w$]+, )+)( \}\))/g,
      (_, open, names, close) => `${open}${sorted(names)}${close}`,
    );
  return Buffer.from(text);
}

/** An unsigned LEB128 number at `at` in `bytes`: [value, the offset after it]. */
function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error('a number runs past the end of the wasm');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

const wasmName = (text) => Buffer.concat([leb(Buffer.byteLength(text)), Buffer.from(text)]);

/**
 * The main wasm and its script with the script's imports under short names. wasm-bindgen names
 * each function the wasm imports from the script after the binding and a hash
 * (`__wbg_instanceof_HtmlButtonElement_93428181d178bf77`), written twice, in the wasm's import
 * section and as a key of the script's imports object. A split build's main wasm imports every
 * binding of every chunk, so those names were about 9 KB of what a guest downloads first
 * (Brotli), most of it the hashes, which do not compress. Each becomes `w<n>` (`n` in base 36,
 * in import order), in both files. A name is renamed only if the script holds it exactly once,
 * as a key (`name:`); the chunks import nothing from the script. Running it again
 * changes nothing: short names are named anew in the same order.
 */
function shortenImports(dir, hashes) {
  const jsFile = path.join(dir, fileOf(dir, 'js', hashes.get('js')));
  const wasmFile = path.join(dir, fileOf(dir, 'wasm', hashes.get('wasm')));
  const wasm = fs.readFileSync(wasmFile);
  // A wasm module starts with `\0asm` and version 1; anything else is left as it is.
  if (!wasm.subarray(0, 8).equals(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))) return 0;
  let js = fs.readFileSync(jsFile, 'utf8');
  const script = `./${path.basename(jsFile).split('.')[0]}_bg.js`;
  const sections = [wasm.subarray(0, 8)];
  let renamed = 0;
  for (let at = 8; at < wasm.length; ) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    const end = body + size;
    if (id !== 2) {
      sections.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    let [count, cursor] = readLeb(wasm, body);
    const entries = [leb(count)];
    const text = (from) => {
      const [length, start] = readLeb(wasm, from);
      return [wasm.toString('utf8', start, start + length), start + length];
    };
    for (let index = 0; index < count; index++) {
      const [module, afterModule] = text(cursor);
      const [name, afterName] = text(afterModule);
      // The import's kind and type, copied as they are: a function's type index; a table's
      // element type and limits; a memory's limits; a global's type and mutability.
      const kind = wasm[afterName];
      let next = afterName + 1;
      const limits = (from) => {
        const flags = wasm[from];
        let after = readLeb(wasm, from + 1)[1];
        if (flags & 1) after = readLeb(wasm, after)[1];
        return after;
      };
      if (kind === 0) next = readLeb(wasm, next)[1];
      else if (kind === 1) next = limits(next + 1);
      else if (kind === 2) next = limits(next);
      else if (kind === 3) next += 2;
      else throw new Error(`${wasmFile}: import ${name} of unknown kind ${kind}`);
      let short = name;
      if (kind === 0 && module === script) {
        const want = `w${index.toString(36)}`;
        const key = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?=\\s*:)`, 'g');
        if (want !== name && js.split(name).length === 2 && (js.match(key) ?? []).length === 1) {
          js = js.replace(key, want);
          short = want;
          renamed++;
        }
      }
      entries.push(wasmName(module), wasmName(short), wasm.subarray(afterName, next));
      cursor = next;
    }
    if (cursor !== end) throw new Error(`${wasmFile}: the import section did not read to its end`);
    const content = Buffer.concat(entries);
    sections.push(Buffer.from([2]), leb(content.length), content);
    at = end;
  }
  if (renamed > 0) {
    fs.writeFileSync(wasmFile, Buffer.concat(sections));
    fs.writeFileSync(jsFile, js);
  }
  return renamed;
}

/** V8's compile hint: every function of the script is compiled with it, as it streams in. */
const COMPILE_WHOLE = '//# allFunctionsCalledOnLoad\n';

/**
 * The script with V8's compile hint as its first line. Without it Chromium compiles each of the
 * script's functions on its first call: the bindings the wasm calls as it hydrates the page, on
 * the main thread, after the wasm has arrived (about 30 ms of the main thread in a trace of the
 * bench's slowed phone; the first visit gained less, within the bench's noise). With it they
 * are compiled on a background thread while the script streams in, long before the wasm has.
 * Browsers without the hint read a comment. Returns whether the script changed.
 */
function compileWhole(dir, hashes) {
  const jsFile = path.join(dir, fileOf(dir, 'js', hashes.get('js')));
  const js = fs.readFileSync(jsFile, 'utf8');
  if (js.startsWith(COMPILE_WHOLE)) return false;
  fs.writeFileSync(jsFile, COMPILE_WHOLE + js);
  return true;
}

/** The hashed file of hash.txt's entry `key`, e.g. js → knock.<hash>.js. */
function fileOf(dir, key, hash) {
  const names = fs.readdirSync(dir).filter((name) => {
    if (!name.includes(`.${hash}.`) || /\.(br|gz)$/.test(name)) return false;
    if (key === 'split') return name === `__wasm_split.${hash}.js`;
    if (key === 'manifest') return name === `__wasm_split_manifest.${hash}.json`;
    return name.endsWith(`.${hash}.${key}`) && !name.startsWith('__wasm_split');
  });
  if (names.length !== 1) {
    throw new Error(`hash.txt's ${key}: ${hash} names ${names.length} files in ${dir}`);
  }
  return names[0];
}

function readHashes(file) {
  const entries = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const [key, hash] = line.split(':').map((part) => part.trim());
    if (!HASH.test(hash ?? '')) throw new Error(`${file}: not a hash: ${line}`);
    entries.set(key, hash);
  }
  for (const key of ['js', 'wasm', 'css']) {
    if (!entries.has(key)) throw new Error(`${file} has no ${key} entry`);
  }
  return entries;
}

/**
 * What the site's names should be: for each hash.txt entry, its file's current name, the hash
 * it should carry (`want`), the linked files' contents as they should be under those names
 * (`bytes`), and whether the file already is as it should be (`fits`).
 */
function plan(dir, hashes) {
  const files = new Map(
    [...hashes].map(([key, hash]) => [key, { name: fileOf(dir, key, hash), hash }]),
  );
  const linked = LINKED.filter((key) => files.has(key)).map((key) => files.get(key));
  const blanked = (name, hash) => name.replace(`.${hash}.`, `.${BLANK}.`);
  for (const file of linked) {
    file.read = fs.readFileSync(path.join(dir, file.name));
    let bytes = file === files.get('split') ? sortSharedNames(file.read) : file.read;
    if (bytes.includes(`.${BLANK}.`)) {
      throw new Error(`${file.name} already holds a blank name (.${BLANK}.)`);
    }
    for (const other of linked) {
      bytes = replaceAll(bytes, other.name, blanked(other.name, other.hash));
    }
    file.blank = bytes;
  }
  const shared = md5(...linked.flatMap((file) => [`${file.blank.length}\n`, file.blank]));
  for (const file of linked) {
    let bytes = file.blank;
    for (const other of linked) {
      const blank = blanked(other.name, other.hash);
      bytes = replaceAll(bytes, blank, blank.replace(`.${BLANK}.`, `.${shared}.`));
    }
    file.want = shared;
    file.bytes = bytes;
    file.fits = file.hash === shared && bytes.equals(file.read);
  }
  for (const [key, file] of files) {
    if (LINKED.includes(key)) continue;
    file.want = md5(fs.readFileSync(path.join(dir, file.name)));
    file.fits = file.hash === file.want;
  }
  return files;
}

function check(dir, hashFile) {
  const files = plan(dir, readHashes(hashFile));
  const wrong = [...files.values()].filter((file) => !file.fits);
  // Every other hashed file (the chunks, their type declarations) is named by its own MD5.
  const listed = new Set([...files.values()].map((file) => file.name));
  for (const name of fs.readdirSync(dir)) {
    const hash = name.match(/\.([A-Za-z0-9_-]{22})\.[a-z]+$/)?.[1];
    if (!hash || listed.has(name)) continue;
    const want = md5(fs.readFileSync(path.join(dir, name)));
    if (want !== hash) wrong.push({ name, hash, want });
  }
  for (const file of wrong) console.error(`${file.name}: its name should carry ${file.want}`);
  return wrong.length === 0;
}

function rename(dir, hashFile) {
  const hashes = readHashes(hashFile);
  const shortened = shortenImports(dir, hashes);
  if (shortened > 0) console.log(`hash-names: ${shortened} import(s) of the main wasm named anew`);
  if (compileWhole(dir, hashes)) console.log('hash-names: the script is compiled whole on load');
  const files = plan(dir, hashes);
  let renamed = 0;
  for (const [key, file] of files) {
    if (file.fits) continue;
    const name = file.name.replace(`.${file.hash}.`, `.${file.want}.`);
    const bytes = file.bytes ?? fs.readFileSync(path.join(dir, file.name));
    const stale = name === file.name ? [] : [file.name];
    for (const old of [...stale, `${file.name}.br`, `${file.name}.gz`]) {
      fs.rmSync(path.join(dir, old), { force: true });
    }
    fs.writeFileSync(path.join(dir, name), bytes);
    hashes.set(key, file.want);
    renamed++;
  }
  if (renamed > 0) {
    const text = [...hashes].map(([key, hash]) => `${key}: ${hash}\n`).join('');
    fs.writeFileSync(`${hashFile}.new`, text);
    fs.renameSync(`${hashFile}.new`, hashFile);
  }
  console.log(`hash-names: ${renamed} file(s) renamed in ${dir}`);
}

const args = process.argv.slice(2);
const [dir, hashFile] = args.filter((arg) => !arg.startsWith('--'));
if (!dir || !hashFile) {
  console.error('usage: hash-names.mjs [--check] <site>/pkg <hash.txt>');
  process.exit(2);
}
try {
  if (args.includes('--check')) {
    process.exit(check(dir, hashFile) ? 0 : 1);
  }
  rename(dir, hashFile);
  if (!check(dir, hashFile)) process.exit(1);
} catch (error) {
  console.error(`hash-names: ${error.message}`);
  process.exit(1);
}
