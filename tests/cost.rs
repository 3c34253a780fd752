//! The projected bill agrees with a full simulation of the same period (issue #5: within 1 %).

use sfsim_experiment::cost::project_bills;
use sfsim_platform::{Deployment, Models};
use sfsim_workflow::Scenario;

#[test]
fn projection_from_a_window_agrees_with_simulating_the_whole_period() {
    let s = Scenario::load(std::path::Path::new("scenarios/paper/ml-inference-large.toml"), &[]).expect("scenario");
    let models = Models::builtin().expect("models");
    let deps = [Deployment::AwsLambda, Deployment::AwsStep, Deployment::AzFunc, Deployment::AzDorch];
    // Six requests per minute for two days: 17,280 executions, simulated whole and projected
    // from a window of 1,000. The per-execution cost has a coefficient of variation of about
    // 0.1, so the window's mean is within 0.3 % (one standard error); idle polling is projected
    // as a rate over the window's wall time. (At lower rates a Durable app can switch regime
    // late in the period, when a burst adds a second host and cross-host messages start to
    // wait for polls; a window then misses it. See the cost module's limitations.)
    let (rate, period) = (6.0 / 60.0, 2.0 * 86_400.0);
    let full = project_bills(&s, &deps, &models, rate, period, 100_000, Some(3), false).expect("full");
    let window = project_bills(&s, &deps, &models, rate, period, 1_000, Some(3), false).expect("window");
    for (f, w) in full.iter().zip(&window) {
        assert!(f.exact && !w.exact);
        let err = (w.cost_usd.total - f.cost_usd.total).abs() / f.cost_usd.total;
        eprintln!("{}: full ${:.4}, projected ${:.4}, {:.3} %", f.deployment, f.cost_usd.total, w.cost_usd.total, err * 100.0);
        assert!(err < 0.01, "{}: projected ${} vs simulated ${} ({:.2} %)", f.deployment, w.cost_usd.total, f.cost_usd.total, err * 100.0);
        let parts = w.cost_usd.compute + w.cost_usd.requests + w.cost_usd.transactions + w.cost_usd.transitions + w.cost_usd.storage;
        assert!((parts - w.cost_usd.total).abs() < 1e-9 * w.cost_usd.total.max(1.0));
    }
    // Idle transactions are billed even with no load: Durable polling over a quiet month.
    let quiet =
        project_bills(&s, &[Deployment::AzDorch], &models, 1.0 / (7.0 * 86_400.0), 30.0 * 86_400.0, 10, Some(3), false).expect("quiet");
    assert!(quiet[0].idle_usd > 0.0, "an idle Durable app still pays for polling");
    // The free tier only lowers a bill.
    let free = project_bills(&s, &deps, &models, rate, period, 1_000, Some(3), true).expect("free");
    for (w, f) in window.iter().zip(&free) {
        assert!(f.cost_usd.total <= w.cost_usd.total);
    }
}

#[test]
fn a_daily_profile_weights_the_hours() {
    use sfsim_experiment::cost::{parse_profile, project_bills_daily};
    let s = Scenario::load(std::path::Path::new("scenarios/paper/ml-inference-large.toml"), &[]).expect("scenario");
    let models = Models::builtin().expect("models");
    let deps = [Deployment::AwsLambda, Deployment::AzDorch];
    let flat = parse_profile(&["1"; 24].join(",")).expect("profile");
    let (rate, period) = (0.5, 3.0 * 86_400.0);
    let constant = project_bills(&s, &deps, &models, rate, period, 1_000, Some(5), false).expect("constant");
    let daily = project_bills_daily(&s, &deps, &models, rate, &flat, period, 1_000, Some(5), false).expect("daily");
    for (c, d) in constant.iter().zip(&daily) {
        assert!((c.executions - d.executions).abs() < 1e-6, "a flat profile keeps the executions");
        let err = (c.cost_usd.total - d.cost_usd.total).abs() / c.cost_usd.total;
        assert!(err < 0.02, "{}: flat profile ${} vs constant rate ${}", c.deployment, d.cost_usd.total, c.cost_usd.total);
    }
    // Half the hours at zero load: exactly half the executions.
    let mut halves = [1.0; 24];
    for m in halves.iter_mut().take(12) {
        *m = 0.0;
    }
    let half = project_bills_daily(&s, &deps, &models, rate, &halves, period, 1_000, Some(5), false).expect("half");
    assert!((half[0].executions - constant[0].executions / 2.0).abs() < 1e-6);
    assert!(parse_profile("1,2,3").is_err() && parse_profile(&["0"; 24].join(",")).is_err());
}
