//! Splitting a large text file into units loses and duplicates no line, whatever the boundaries.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use taishi_events::{Format, Source, read_buffer};

#[test]
fn every_line_once_across_units() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let mut offsets = Vec::new();
    let mut pos = 0u64;
    let mut n = 0u64;
    // ~20 MB of lines of varying length, so unit boundaries fall mid-line and on line starts.
    while pos < 20_000_000 {
        let pad = "x".repeat((n % 977) as usize);
        let line = format!("{{\"n\":{n},\"pad\":\"{pad}\"}}\n");
        offsets.push(pos);
        pos += line.len() as u64;
        f.write_all(line.as_bytes()).expect("write");
        n += 1;
    }
    f.flush().expect("flush");
    drop(f);
    let src = Source::open(&path).expect("open");
    assert_eq!(src.format(), Some(Format::JsonLines));
    assert!(src.units() >= 3, "{} units", src.units());
    let mut seen = vec![0u8; n as usize];
    for u in 0..src.units() {
        src.read_unit(
            u,
            &mut |e| {
                let i = e.text("n").expect("n").parse::<usize>().expect("number");
                seen[i] += 1;
                assert_eq!(e.meta.offset, offsets[i], "offset of line {i}");
            },
            &mut |w| panic!("{w}"),
        )
        .expect("reads");
    }
    assert!(seen.iter().all(|c| *c == 1), "each line exactly once");
}

#[test]
fn sniffing_picks_the_reader() {
    let file: Arc<Path> = Arc::from(Path::new("x.log"));
    let cases: [(&[u8], usize); 5] = [
        (b"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"event_type\":\"alert\",\"src_ip\":\"1.2.3.4\"}\n", 1),
        (b"{\"ts\":1.5,\"uid\":\"C1\",\"id.orig_h\":\"1.2.3.4\"}\n", 1),
        (b"<13>Jan  1 00:00:00 host app: hello\n", 1),
        (b"[{\"a\":1},{\"a\":2}]", 2),
        (b"\x00\x01\x02 binary", 0),
    ];
    let mut channels = Vec::new();
    for (bytes, want) in cases {
        let mut got = 0;
        read_buffer(
            bytes,
            file.clone(),
            None,
            2024,
            &mut |e| {
                got += 1;
                channels.push(e.channel().map(|c| c.into_owned()));
            },
            &mut |_| {},
        );
        assert_eq!(got, want, "{}", String::from_utf8_lossy(bytes));
    }
    assert_eq!(channels[0].as_deref(), Some("suricata"));
    assert_eq!(channels[1].as_deref(), Some("zeek/x"));
    assert_eq!(channels[2].as_deref(), Some("syslog"));
}
