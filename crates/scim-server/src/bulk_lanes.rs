//! Where `/Bulk` requests run: a few threads of their own, one bulk each at a time.
//!
//! On the shared blocking pool each bulk landed on whichever thread was idle, and the memory a
//! bulk freed stayed resident in that thread's allocator heap (mimalloc returns a heap's freed
//! pages to the system only as the owning thread goes on allocating): every thread that had
//! run a bulk kept its share, and a load run's peak RSS grew by 65 to 90 MB in its bulk
//! scenario. On its own lane the next bulk reuses the last one's; that growth is gone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// `n` lanes and the turns that admit one bulk to each.
pub struct BulkLanes {
    turns: Arc<Semaphore>,
    jobs: Sender<Job>,
}

/// Leave to run one bulk on a lane; waiting for it holds only the request's bytes.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
}

impl BulkLanes {
    /// Starts `n` lane threads (at least one). They end when the lanes are dropped.
    pub fn new(n: usize) -> std::io::Result<BulkLanes> {
        let n = n.max(1);
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..n {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("scim-bulk-{i}"))
                .spawn(move || lane(&queue))?;
        }
        Ok(BulkLanes {
            turns: Arc::new(Semaphore::new(n)),
            jobs,
        })
    }

    /// Waits until a lane is free.
    pub async fn turn(&self) -> Result<Turn, ApiError> {
        let permit = Arc::clone(&self.turns)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Cancelled)?;
        Ok(Turn { _permit: permit })
    }

    /// Runs `work` on a lane and waits for its result. The turn is given back when the work
    /// ends, so a bulk abandoned by its client still finishes before the next one starts.
    pub async fn run<T: Send + 'static>(
        &self,
        turn: Turn,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _turn = turn;
            // A panic fails this request (the sender is dropped), not the lane.
            if let Ok(out) = catch_unwind(AssertUnwindSafe(work)) {
                // The client may have gone; the work is done either way.
                let _ = done.send(out);
            }
        });
        self.jobs.send(job).map_err(|_| ApiError::Cancelled)?;
        result.await.map_err(|_| ApiError::Cancelled)
    }
}

/// One lane: runs jobs until the lanes are dropped.
fn lane(queue: &Mutex<Receiver<Job>>) {
    loop {
        // A poisoned lock only means another lane panicked while taking a job; the queue is
        // intact (jobs catch their own panics, so this does not happen in practice).
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_runs_on_a_lane_and_a_panic_fails_only_its_request() {
        let lanes = BulkLanes::new(1).unwrap();
        let turn = lanes.turn().await.unwrap();
        let name = lanes
            .run(turn, || std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("scim-bulk-0"));
        let turn = lanes.turn().await.unwrap();
        let failed = lanes.run(turn, || panic!("boom")).await;
        assert!(matches!(failed, Err(ApiError::Cancelled)));
        // The lane and its turn survive the panic.
        let turn = lanes.turn().await.unwrap();
        assert_eq!(lanes.run(turn, || 7).await.unwrap(), 7);
    }

    #[actix_web::test]
    async fn a_turn_waits_for_a_free_lane() {
        let lanes = BulkLanes::new(1).unwrap();
        let held = lanes.turn().await.unwrap();
        let waiting =
            actix_web::rt::time::timeout(std::time::Duration::from_millis(50), lanes.turn());
        assert!(
            waiting.await.is_err(),
            "a second turn was given while one was held"
        );
        drop(held);
        assert!(lanes.turn().await.is_ok());
    }
}
