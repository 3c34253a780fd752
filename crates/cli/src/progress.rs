//! Progress on stderr for work that takes a while: a bar of finished simulations (every run,
//! sweep trial, experiment and calibration step counts them) or a spinner for a replay. It
//! appears only after [`DELAY`], only when stderr is a terminal, never with `-q`, and clears
//! itself when the work ends, so piped or quiet output is unchanged.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sfsim_experiment::{SIMULATIONS_DONE, SIMULATIONS_QUEUED};

/// Work shorter than this shows nothing.
pub const DELAY: Duration = Duration::from_secs(2);

/// What a bar counts.
#[derive(Clone, Copy)]
pub enum Count {
    /// Simulations, as many as are queued so far.
    Simulations,
    /// Simulations, this many in all (a sweep shard's trials).
    Of(u64),
    /// Nothing countable: a spinner.
    Spinner,
}

/// Runs `work` with a progress bar labelled `label` on stderr (see the module's rules).
pub fn with_progress<T>(label: &str, quiet: bool, count: Count, work: impl FnOnce() -> T) -> T {
    let counted = !matches!(count, Count::Spinner);
    if quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let bar: Arc<Mutex<Option<indicatif::ProgressBar>>> = Arc::new(Mutex::new(None));
    let (q0, d0) = (SIMULATIONS_QUEUED.load(Ordering::Relaxed), SIMULATIONS_DONE.load(Ordering::Relaxed));
    let watcher = {
        let (stop, bar, label) = (Arc::clone(&stop), Arc::clone(&bar), label.to_string());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if started.elapsed() < DELAY {
                    continue;
                }
                let mut slot = bar.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let pb = slot.get_or_insert_with(|| {
                    let pb = if counted { indicatif::ProgressBar::new(0) } else { indicatif::ProgressBar::new_spinner() };
                    let style = if counted {
                        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} simulations, {elapsed} (eta {eta})")
                    } else {
                        indicatif::ProgressStyle::with_template("{msg} {spinner} {elapsed}")
                    };
                    if let Ok(style) = style {
                        pb.set_style(style.progress_chars("=> "));
                    }
                    pb.set_message(label.clone());
                    pb
                });
                if counted {
                    let queued = SIMULATIONS_QUEUED.load(Ordering::Relaxed).saturating_sub(q0);
                    pb.set_length(if let Count::Of(n) = count { n } else { queued });
                    pb.set_position(SIMULATIONS_DONE.load(Ordering::Relaxed).saturating_sub(d0));
                } else {
                    pb.tick();
                }
            }
        })
    };
    let out = work();
    stop.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    if let Some(pb) = bar.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
        pb.finish_and_clear();
    }
    out
}
