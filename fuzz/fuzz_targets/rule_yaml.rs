//! Rule documents: parsing and compiling arbitrary YAML must return errors, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = taishi_sigma::parse_text("fuzz.yml", text);
        let mut loader = taishi_sigma::Loader::new(taishi_sigma::LoadOptions::default());
        loader.add_text("fuzz.yml", text);
        let _ = loader.build();
    }
});
