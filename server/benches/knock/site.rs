//! Figure e: what a browser downloads (the release wasm, raw and gzipped) and how long the
//! server takes to render the prejoin page for a visitor who already has a session.

use std::{io::Write, path::Path, time::Instant};

use crate::{
    client::{Api, Person, Result, fail, loopback},
    process::Knock,
    stats::{Row, Verdict, median, ms, percentile},
};

/// The gzip goal for the wasm, in KiB.
const WASM_GZIP_GOAL_KIB: f64 = 250.0;
/// Rounds of prejoin renders, and renders per round.
const ROUNDS: usize = 3;
const RENDERS: usize = 300;

/// A `.wasm` of the site: its path, name and raw size in bytes.
struct Wasm {
    path: std::path::PathBuf,
    name: String,
    raw: u64,
}

impl Wasm {
    fn read(path: std::path::PathBuf) -> Result<Self> {
        Ok(Self {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: std::fs::metadata(&path)?.len(),
            path,
        })
    }

    /// Its size gzipped (level 9), in bytes.
    fn gzip(&self) -> Result<u64> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&std::fs::read(&self.path)?)?;
        Ok(encoder.finish()?.len() as u64)
    }

    /// Whether this is a chunk of the split (`split_<name>.<hash>.wasm`, `chunk_<n>.<hash>.wasm`),
    /// not the main wasm every page loads first.
    fn is_chunk(&self) -> bool {
        self.name.starts_with("split_") || self.name.starts_with("chunk_")
    }
}

/// Every `.wasm` in `<site>/pkg`, largest first.
fn wasms(site: &Path) -> Result<Vec<Wasm>> {
    let pkg = site.join("pkg");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&pkg).map_err(|error| format!("{}: {error}", pkg.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "wasm") {
            found.push(Wasm::read(path)?);
        }
    }
    found.sort_by_key(|wasm| std::cmp::Reverse(wasm.raw));
    Ok(found)
}

/// The wasm row: the largest wasm of the site against the goal, and the main one beside it.
pub fn wasm(site: &Path) -> Result<Row> {
    let found = wasms(site)?;
    let Some(largest) = found.first() else {
        return fail(format!("no .wasm in {}", site.join("pkg").display()));
    };
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    let which = if largest.is_chunk() {
        match found.iter().find(|wasm| !wasm.is_chunk()) {
            Some(main) => format!(
                "a chunk (the main wasm, which every page loads first, is pkg/{}: {:.0} KiB gzip, \
                 {:.0} KiB raw)",
                main.name,
                kib(main.gzip()?),
                kib(main.raw)
            ),
            None => "a chunk".to_owned(),
        }
    } else {
        "the main one, which every page loads first".to_owned()
    };
    let gzip = largest.gzip()?;
    Ok(Row::new(
        "e. release wasm size",
        format!(
            "{:.0} KiB gzip ({:.0} KiB raw)",
            kib(gzip),
            kib(largest.raw)
        ),
        format!("<= {WASM_GZIP_GOAL_KIB:.0} KiB gzip"),
        Verdict::goal(kib(gzip) <= WASM_GZIP_GOAL_KIB),
        format!(
            "pkg/{}, the largest wasm of the site as built by `cargo leptos build --release \
             --split` (wasm-opt -Oz): {which}; gzip level 9 in the bench",
            largest.name
        ),
    ))
}

/// The prejoin render rows: the page as is, and Brotli-compressed as browsers ask for it.
pub async fn prejoin(knock: &Knock, api: &Api) -> Result<Vec<Row>> {
    let room = "bench-prejoin";
    api.knocking_room(room).await?;
    let guest = Person::arrive(&knock.base_url, loopback(9, 0, 1), room, None).await?;
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    let (mut br_p50s, mut br_p99s) = (Vec::new(), Vec::new());
    let (mut bytes, mut br_bytes) = (0, 0);
    for _ in 0..ROUNDS {
        let mut times = Vec::with_capacity(RENDERS);
        let mut br_times = Vec::with_capacity(RENDERS);
        for _ in 0..RENDERS {
            let started = Instant::now();
            let (status, page) = guest.page().await?;
            times.push(ms(started.elapsed()));
            if status != 200 || !page.contains("Ready to join?") {
                return fail(format!(
                    "GET /{room} answered {status} without the prejoin page"
                ));
            }
            bytes = page.len();
            let started = Instant::now();
            let (status, encoding, length) = guest.page_compressed().await?;
            br_times.push(ms(started.elapsed()));
            if status != 200 || encoding != "br" {
                return fail(format!(
                    "GET /{room} with Accept-Encoding: br answered {status}, encoding {encoding:?}"
                ));
            }
            br_bytes = length;
        }
        p50s.push(percentile(&mut times, 50.0));
        p99s.push(percentile(&mut times, 99.0));
        br_p50s.push(percentile(&mut br_times, 50.0));
        br_p99s.push(percentile(&mut br_times, 99.0));
    }
    api.delete_room(room).await?;
    let how = format!(
        "GET /<room> (private, knocking) with a session cookie, one after another (each plain \
         request followed by a Brotli one); request sent to the last byte read; median over \
         {ROUNDS} rounds of {RENDERS} of each round's p50 / p99"
    );
    Ok(vec![
        Row::new(
            "e. prejoin page render",
            format!(
                "p50 {:.2} ms, p99 {:.2} ms",
                median(&mut p50s),
                median(&mut p99s)
            ),
            "-",
            Verdict::Info,
            format!(
                "{how}; the page uncompressed, {:.1} KiB",
                bytes as f64 / 1024.0
            ),
        ),
        Row::new(
            "e. prejoin page render, Brotli",
            format!(
                "p50 {:.2} ms, p99 {:.2} ms",
                median(&mut br_p50s),
                median(&mut br_p99s)
            ),
            "-",
            Verdict::Info,
            format!(
                "{how}; asked as a browser asks (`Accept-Encoding: br, gzip`), answered with \
                 Brotli: {:.1} KiB",
                br_bytes as f64 / 1024.0
            ),
        ),
    ])
}
