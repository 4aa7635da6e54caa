//! Prints the flattened fields of every event in the files given as arguments.
#![allow(clippy::print_stdout, clippy::print_stderr)]
fn main() {
    for arg in std::env::args().skip(1) {
        let src = taishi_events::Source::open(std::path::Path::new(&arg)).expect("open");
        src.read_all(
            &mut |e| {
                println!(
                    "--- {:?} {:?} {:?}",
                    e.meta.record, e.meta.timestamp, e.meta.format
                );
                for (n, v) in e.fields() {
                    println!("{n} = {v:?}");
                }
            },
            &mut |w| eprintln!("warning: {w}"),
        )
        .expect("read");
    }
}
