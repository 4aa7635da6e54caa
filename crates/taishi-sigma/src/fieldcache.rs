//! Per-event cache of lowercased field values. Hundreds of rules test the same few fields
//! (`Image`, `CommandLine` …) of an event; each field is looked up and lowercased once per event.

use taishi_fields::FieldSource;

use crate::matcher::lower_into;

/// "No cache slot" for tests whose field is not interned.
pub(crate) const NO_SLOT: u32 = u32::MAX;

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    exists: bool,
    len: usize,
    values: Vec<String>,
}

/// Reusable per-thread buffers for evaluation.
#[derive(Debug, Default)]
pub struct EvalScratch {
    pub(crate) low: String,
    generation: u32,
    slots: Vec<Slot>,
}

impl EvalScratch {
    /// Starts a new event: forgets every cached value.
    pub(crate) fn begin_event(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.iter_mut().for_each(|s| s.generation = 0);
            self.generation = 1;
        }
    }

    /// The lowercased text of every non-null value of `field` (slot `id`), and whether the
    /// field exists; looked up on the event at most once per event.
    pub(crate) fn lowered(
        &mut self,
        id: u32,
        field: &str,
        ev: &dyn FieldSource,
    ) -> (bool, &[String]) {
        let i = id as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, Slot::default);
        }
        let generation = self.generation;
        let slot = &mut self.slots[i];
        if slot.generation != generation {
            slot.generation = generation;
            let (values, len) = (&mut slot.values, &mut slot.len);
            *len = 0;
            slot.exists = ev.visit_field(field, &mut |v| {
                if let Some(t) = v.as_text() {
                    if values.len() <= *len {
                        values.push(String::new());
                    }
                    lower_into(&t, &mut values[*len]);
                    *len += 1;
                }
            });
        }
        (slot.exists, &slot.values[..slot.len])
    }
}
