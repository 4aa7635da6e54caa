//! Event readers (EVTX, JSON lines, syslog, Suricata EVE, Zeek) producing the one taishi event type.
//!
//! Being built; see ARCHITECTURE.md for what this crate owns.
