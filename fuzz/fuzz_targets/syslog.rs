//! Syslog lines (RFC 3164 and 5424).
#![no_main]
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use taishi_events::{Format, read_buffer};

fuzz_target!(|data: &[u8]| {
    let file: Arc<Path> = Arc::from(Path::new("fuzz.log"));
    read_buffer(
        data,
        file,
        Some(Format::Syslog),
        2024,
        &mut |e| {
            let _ = e.computer();
        },
        &mut |_| {},
    );
});
