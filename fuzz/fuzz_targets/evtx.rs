//! EVTX: the fuzzer's bytes become the first chunk after a valid file header, so mutations reach
//! the chunk and record decoders rather than dying on the header magic.
#![no_main]
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use taishi_events::{Format, read_buffer};

fuzz_target!(|data: &[u8]| {
    let mut file = vec![0u8; 4096];
    file[..8].copy_from_slice(b"ElfFile\0");
    let mut chunk = data.to_vec();
    chunk.resize(65536, 0);
    file.extend_from_slice(&chunk);
    let name: Arc<Path> = Arc::from(Path::new("fuzz.evtx"));
    read_buffer(
        &file,
        name,
        Some(Format::Evtx),
        2024,
        &mut |e| {
            let _ = (e.event_id(), e.channel());
        },
        &mut |_| {},
    );
});
