//! Runs many futures with at most `limit` of them in flight, on the caller's task (no
//! runtime of its own: the domain stays free of one). What `buffer_unordered` does,
//! in the few lines a portfolio of tens of tenants needs.

use std::{
    future::{Future, poll_fn},
    pin::Pin,
    task::Poll,
};

/// The outputs of `futures`, in their order, with at most `limit` (at least one)
/// polled at a time: the next starts as soon as one ends.
pub async fn bounded<F: Future>(futures: Vec<F>, limit: usize) -> Vec<F::Output> {
    let limit = limit.max(1);
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut waiting = futures.into_iter().enumerate();
    let mut running: Vec<(usize, Pin<Box<F>>)> = Vec::with_capacity(limit);
    poll_fn(|cx| {
        loop {
            while running.len() < limit {
                match waiting.next() {
                    Some((index, future)) => running.push((index, Box::pin(future))),
                    None => break,
                }
            }
            if running.is_empty() {
                return Poll::Ready(());
            }
            let before = running.len();
            running.retain_mut(|(index, future)| match future.as_mut().poll(cx) {
                Poll::Ready(output) => {
                    outputs[*index] = Some(output);
                    false
                }
                Poll::Pending => true,
            });
            // Every running future registered the waker: wait for one of them, unless
            // one ended and so made room for the next.
            if running.len() == before {
                return Poll::Pending;
            }
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
        time::Duration,
    };

    use super::*;

    #[tokio::test]
    async fn keeps_the_order_and_never_runs_more_than_the_limit() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..10u64)
            .map(|n| {
                let (in_flight, most) = (in_flight.clone(), most.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // The later ones end first: the order of outputs is still theirs.
                    tokio::time::sleep(Duration::from_millis(20 - n)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    n * 10
                }
            })
            .collect();
        let outputs = bounded(jobs, 4).await;
        assert_eq!(outputs, (0..10).map(|n| n * 10).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 4, "four at once, not more");
    }

    #[tokio::test]
    async fn nothing_to_run_is_nothing_to_wait_for() {
        let none: Vec<std::future::Ready<u8>> = Vec::new();
        assert!(bounded(none, 4).await.is_empty());
        let one = vec![std::future::ready(7u8)];
        assert_eq!(
            bounded(one, 0).await,
            vec![7],
            "a limit of 0 still runs one"
        );
    }
}
