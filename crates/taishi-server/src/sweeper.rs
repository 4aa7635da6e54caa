//! The periodic deadline sweep of the closed loop: reminders 24 h before a deadline, overdue flags, and
//! escalation (督办) to the parent and then the grandparent org. The sweep is idempotent, so running it
//! often only costs a read of the live notices; `taishi serve` starts it next to the HTTP server.

use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How often the server sweeps by default.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(300);

/// Runs the sweep at once and then every `every` until the task is aborted; failures are logged and
/// retried at the next tick.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.loop_service().sweep().await {
                Ok(r) if r.events.is_empty() && r.reopened.is_empty() => {}
                Ok(r) => tracing::info!(
                    events = r.events.len(),
                    reopened = r.reopened.len(),
                    expiring = r.expiring.len(),
                    "Deadline sweep raised events."
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "Deadline sweep failed; retrying at the next tick.")
                }
            }
        }
    })
}
