//! The periodic jobs of the closed loop that `taishi serve` starts next to the HTTP server:
//!
//! - the deadline sweep ([`spawn`]): reminders 24 h before a deadline, overdue flags, escalation (督办) to
//!   the parent and then the grandparent org, risk acceptances warned about and reopened. It is
//!   idempotent, so running it often only costs a read of the live notices;
//! - scheduled bulletins ([`spawn_bulletins`], 常态化通报): publishes what the configured
//!   [`BulletinSchedule`] says is due by the loop's clock, never twice for a root, period and format.

use crate::state::AppState;
use std::time::Duration;
use taishi_loop::bulletin::BulletinSchedule;
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

/// Checks the bulletin schedule at once and then every `schedule.check_every_secs` until the task is
/// aborted; failures (an unknown root, storage) are logged and retried at the next tick.
pub fn spawn_bulletins(state: AppState, schedule: BulletinSchedule) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(schedule.check_every_secs.max(1));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.loop_service().publish_scheduled(&schedule).await {
                Ok(done) => {
                    for p in done {
                        tracing::info!(root = %p.root, period = %p.period, formats = ?p.formats, "Bulletin published.");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Scheduled bulletins failed; retrying at the next tick.")
                }
            }
        }
    })
}
