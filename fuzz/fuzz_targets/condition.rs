//! Condition expressions (`1 of sel* and not filter`): any text parses or errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = taishi_sigma::parse_condition(text);
    }
});
