//! JSON lines, JSON documents, Suricata EVE and Zeek: the readers skip bad input with warnings.
#![no_main]
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use taishi_events::{Format, read_buffer};

fuzz_target!(|data: &[u8]| {
    let file: Arc<Path> = Arc::from(Path::new("fuzz.jsonl"));
    for format in [
        Format::JsonLines,
        Format::Json,
        Format::SuricataEve,
        Format::Zeek,
    ] {
        let mut n = 0u64;
        read_buffer(
            data,
            file.clone(),
            Some(format),
            2024,
            &mut |e| {
                n += e.len() as u64;
                let _ = (e.computer(), e.channel(), e.event_id());
            },
            &mut |_| {},
        );
    }
});
