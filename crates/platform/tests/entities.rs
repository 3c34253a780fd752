//! Keyed entities, entity operations as flow elements and critical sections (issue #11, item 5).

use sfsim_engine::{RngStreams, SimTime};
use sfsim_platform::{Deployment, DeploymentPlan, Models, Outcome, RunOutput, TraceEvent};
use sfsim_workflow::{Arrivals, Scenario, SourceFile, StateId};

const EXEC_TRACK_BASE: u32 = 0x4000_0000;

fn scenario(workflow: &str) -> Scenario {
    let text = format!("[scenario]\nname = \"t\"\n[arrivals]\nkind = \"interval\"\ninterval_s = 1\n{workflow}");
    Scenario::from_source(SourceFile::from_text("t.toml", text), &[]).expect("test scenario is valid")
}

fn run(d: Deployment, s: &Scenario, arrivals: Arrivals, n: u64, trace: bool) -> RunOutput {
    run_with(&Models::builtin().expect("models"), d, s, arrivals, n, trace)
}

fn run_with(m: &Models, d: Deployment, s: &Scenario, arrivals: Arrivals, n: u64, trace: bool) -> RunOutput {
    let cfg = s.deployment.get(d.name()).cloned().unwrap_or_default();
    let plan = DeploymentPlan::build(d, m, &cfg, &s.workflow).expect("plan builds");
    let o = plan.run(&s.workflow, &arrivals, n, RngStreams::new(5, 0), trace);
    for r in &o.executions {
        assert_eq!(r.outcome, Outcome::Completed, "{}: execution {} ends completed", d.name(), r.id);
        assert_eq!(r.breakdown.total(), r.latency(), "{}: breakdown sums to latency", d.name());
    }
    assert_eq!(o.executions.len() as u64, n, "{}: every execution ends", d.name());
    o
}

/// (execution, time, name) of the instants on execution tracks.
fn exec_instants(o: &RunOutput) -> Vec<(u32, SimTime, String)> {
    o.trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Instant { track, name, at } if *track >= EXEC_TRACK_BASE => Some((track - EXEC_TRACK_BASE, *at, name.clone())),
            _ => None,
        })
        .collect()
}

fn mean_entity_wait_s(o: &RunOutput) -> f64 {
    o.executions.iter().map(|r| r.breakdown.entity.as_secs_f64()).sum::<f64>() / o.executions.len() as f64
}

/// One `add` of `service_s` CPU on a counter of `keys` keys per execution.
fn counter(keys: u32, service_s: f64) -> Scenario {
    scenario(&format!(
        "[workflow]\ninput_kb = 0\noutput_kb = 0\nflow = [{{ call_entity = \"counter\", op = \"add\", op_cpu_s = {{ dist = \"fixed\", value_s = {service_s} }} }}]\n\
         [workflow.steps.unused]\ncpu_s = {{ dist = \"fixed\", value_s = 0 }}\nmemory_mb = 64\n\
         [workflow.state.counter]\nsize_kb = 1\nkeys = {keys}\n"
    ))
}

#[test]
fn one_key_queues_like_a_single_server_and_a_thousand_keys_do_not() {
    // Poisson arrivals, each one operation of D = 0.25 s CPU on the counter. With one key the
    // entity is a single server: M/D/1 waiting time W = rho S / (2 (1 - rho)), rho = lambda S,
    // with the service S = D + the entity's own work per operation (table read and write means,
    // models/az-storage.toml, lognormal sigma 0.5; dispatch CPU, models/az-durable.toml). Batching
    // (the waiting queue taken at once, one load and save) shortens the service under load and
    // the host's CPU, shared with orchestrator episodes, lengthens it: within 0.6-1.6x. Hosts
    // removed by scale-in release their leases here: a removed host's lapsing leases (the
    // default, `task_hub.stop_releases_leases` 0) stall the entity's partition 20-45 s, a
    // mechanism of its own (tests/stateful_mechanisms.rs), not the queueing under test.
    let d = 0.25;
    let mut m = Models::builtin().expect("models");
    m.durable.task_hub.stop_releases_leases.value = 1.0;
    let mean_factor = (0.5f64 * 0.5 / 2.0).exp();
    let service = d
        + (m.storage.table.read_latency_s_median.value + m.storage.table.write_latency_s_median.value) * mean_factor
        + m.durable.entities.operation_cpu_s.value;
    let mut waits = Vec::new();
    // Loads of 30 %, 55 % and 80 % of the single server, whatever the fitted dispatch cost.
    for rate in [0.3 / service, 0.55 / service, 0.8 / service] {
        let o = run_with(&m, Deployment::AzDent, &counter(1, d), Arrivals::Poisson { rate_per_s: rate }, 3000, false);
        let rho: f64 = rate * service;
        let md1 = rho * service / (2.0 * (1.0 - rho));
        let w = mean_entity_wait_s(&o);
        eprintln!("keys = 1, lambda = {rate:.2}/s, rho = {rho:.2}: entity wait {w:.3} s, M/D/1 {md1:.3} s");
        assert!(w > 0.6 * md1 && w < 1.6 * md1, "lambda = {rate:.2}: wait {w:.3} s against M/D/1 {md1:.3} s");
        waits.push(w);
    }
    assert!(waits[0] < waits[1] && waits[1] < waits[2], "the wait grows with the arrival rate: {waits:?}");
    // Spread over 1,000 keys, the same load meets (almost) no contention.
    let o = run_with(&m, Deployment::AzDent, &counter(1000, d), Arrivals::Poisson { rate_per_s: 0.55 / service }, 3000, false);
    let w = mean_entity_wait_s(&o);
    assert!(w < 0.01 * waits[1], "1,000 keys: entity wait {w:.5} s against {:.3} s with one key", waits[1]);
}

#[test]
fn a_burst_on_one_key_takes_at_least_the_serial_sum() {
    let (n, d) = (20u64, 0.5);
    let o = run(Deployment::AzDorch, &counter(1, d), Arrivals::Burst { size: n, interval_s: 0.0 }, n, false);
    let last = o.executions.iter().map(|r| r.end.as_secs_f64()).fold(0.0, f64::max);
    assert!(last >= n as f64 * d, "the last of {n} operations of {d} s on one entity ends at {last:.2} s");
    // Served one after another, the k-th answer comes no earlier than k x D: the mean latency is
    // at least (n + 1) / 2 x D.
    let mean = o.executions.iter().map(|r| r.latency().as_secs_f64()).sum::<f64>() / n as f64;
    let serial = (n + 1) as f64 / 2.0 * d;
    assert!(mean >= serial, "mean latency {mean:.2} s against the serial mean {serial:.2} s");
    assert!(mean_entity_wait_s(&o) > 0.25 * serial, "the wait behind the entity is entity time");
}

const LOCKED: &str = r#"
[workflow]
input_kb = 0
output_kb = 0
flow = [{ lock = ["account"], body = [{ call_entity = "account", op = "get" }, { step = "work" }] }]
[workflow.steps.work]
cpu_s = { dist = "fixed", value_s = 10.0 }
memory_mb = 64
[workflow.state.account]
size_kb = 1
"#;

#[test]
fn a_lock_holds_other_operations_until_its_release() {
    for d in [Deployment::AzDent, Deployment::AzDorch] {
        // Two executions 0.5 s apart lock the same account; the second's lock request reaches the
        // entity while the first holds it (its body runs 10 s), so it is deferred until the release.
        // Eight Python threads (Python 3.9+ default is higher still): the first's body does not
        // hold the host's only worker thread, so the second reaches the lock while it is held.
        let mut m = Models::builtin().expect("models");
        m.azure.function.python_thread_pool.value = 8.0;
        let o = run_with(&m, d, &scenario(LOCKED), Arrivals::Interval { interval_s: 0.5 }, 2, true);
        let ev = exec_instants(&o);
        let at = |e: u32, name: &str| ev.iter().find(|(x, _, n)| *x == e && n == name).map(|x| x.1);
        // Whichever execution takes the lock first (a cold start may delay the first), the other
        // takes it only after the release.
        let taken = |e| at(e, "account[0] lock taken").expect("every execution takes the lock");
        let (a, b) = if taken(0) < taken(1) { (0, 1) } else { (1, 0) };
        let released = at(a, "locks released").expect("the first holder releases");
        assert!(
            taken(a) < released && released <= taken(b),
            "{}: lock at {}, release at {released}, next lock at {}",
            d.name(),
            taken(a),
            taken(b)
        );
        assert!(at(b, "account[0] locked: operation deferred").is_some_and(|t| t < released), "{}: deferred while locked", d.name());
        let get_b = at(b, "account[0] get").expect("the second reads");
        assert!(get_b > taken(b), "{}: the second reads after it took the lock", d.name());
        // The wait behind the lock is entity time.
        assert!(o.executions[b as usize].breakdown.entity.as_secs_f64() > 1.0, "{}: {:?}", d.name(), o.executions[b as usize].breakdown);
    }
}

#[test]
fn sections_locking_two_entities_in_opposite_orders_never_deadlock() {
    // Each execution runs two sections at once, over the same two accounts written in opposite
    // orders; 40 executions arrive together. Sorted acquisition makes every one end.
    let w = r#"
[workflow]
input_kb = 0
output_kb = 0
flow = [{ parallel = [
  [{ lock = ["account[0]", "account[1]"], body = [{ call_entity = "account[0]", op = "withdraw" }, { call_entity = "account[1]", op = "deposit" }] }],
  [{ lock = ["account[1]", "account[0]"], body = [{ call_entity = "account[1]", op = "withdraw" }, { call_entity = "account[0]", op = "deposit" }] }],
] }]
[workflow.steps.unused]
cpu_s = { dist = "fixed", value_s = 0 }
memory_mb = 64
[workflow.state.account]
size_kb = 1
keys = 3
refs = 2
distinct = true
"#;
    for d in [Deployment::AzDent, Deployment::AzDorch] {
        let o = run(d, &scenario(w), Arrivals::Burst { size: 40, interval_s: 0.0 }, 40, false);
        assert_eq!(o.executions.len(), 40);
    }
    // Whatever the timing: a keyed entity is freed while idle and its slot reused, so a section
    // that had not reached the second entity of its set yet must find that entity by its key
    // when the request gets there (it used to hold the entity's old id: all 40 executions then
    // waited forever behind a lock granted to a request that went to another entity).
    let s = scenario(w);
    for op_cpu_s in [0.01, 0.1, 0.22, 0.5] {
        let mut m = Models::builtin().expect("models");
        m.durable.entities.operation_cpu_s.value = op_cpu_s;
        for seed in 1..=5 {
            let cfg = s.deployment.get("az-dent").cloned().unwrap_or_default();
            let plan = DeploymentPlan::build(Deployment::AzDent, &m, &cfg, &s.workflow).expect("plan builds");
            let o = plan.run(&s.workflow, &Arrivals::Burst { size: 40, interval_s: 0.0 }, 40, RngStreams::new(seed, 0), false);
            let done = o.executions.iter().filter(|r| r.outcome == Outcome::Completed).count();
            assert_eq!(done, 40, "operation {op_cpu_s} s, seed {seed}: {done} of 40 completed");
        }
    }
}

#[test]
fn the_same_keys_are_drawn_on_every_deployment() {
    let w = r#"
[workflow]
input_kb = 0
output_kb = 0
flow = [{ call_entity = "account[0]", op = "get" }, { call_entity = "account[1]", op = "get" }, { step = "s" }]
[workflow.steps.s]
cpu_s = { dist = "fixed", value_s = 0.01 }
memory_mb = 64
[workflow.state.account]
size_kb = 1
keys = 1000
refs = 2
distinct = true
key = { dist = "zipf", exponent = 1.1 }
"#;
    let s = scenario(w);
    let keys = |d| {
        let o = run(d, &s, Arrivals::Interval { interval_s: 1.0 }, 30, true);
        let mut k: Vec<(u32, String)> = exec_instants(&o).into_iter().map(|(e, _, n)| (e, n)).collect();
        k.sort();
        k
    };
    let (dent, dorch) = (keys(Deployment::AzDent), keys(Deployment::AzDorch));
    assert_eq!(dent.len(), 60, "two operations per execution: {dent:?}");
    assert_eq!(dent, dorch, "az-dent and az-dorch address the same accounts");
    // The library's draw is what every deployment uses (storage deployments included): the
    // same for the same (seed, replication, execution), distinct within an execution.
    let streams = RngStreams::new(5, 0);
    for e in 0..30u32 {
        let k = sfsim_platform::workload::entity_keys(&streams, &s.workflow, e, StateId(0));
        assert_eq!(k, sfsim_platform::workload::entity_keys(&RngStreams::new(5, 0), &s.workflow, e, StateId(0)));
        assert_ne!(k[0], k[1], "distinct keys");
        assert!(dent.contains(&(e, format!("account[{}] get", k[0]))), "execution {e} read account {}", k[0]);
    }
    // Storage deployments run the same elements as reads of the object.
    for d in [Deployment::AwsLambda, Deployment::AzFunc, Deployment::AzQueue] {
        let o = run(d, &s, Arrivals::Interval { interval_s: 1.0 }, 5, false);
        assert!(o.executions.iter().all(|r| r.storage_gets >= 2), "{}: two reads per execution", d.name());
    }
}

#[test]
fn deployments_without_entities_refuse_a_critical_section_at_its_key() {
    let m = Models::builtin().expect("models");
    let s = scenario(LOCKED);
    for d in [Deployment::AwsLambda, Deployment::AzFunc, Deployment::AzQueue, Deployment::AwsStep] {
        let e = DeploymentPlan::build(d, &m, &Default::default(), &s.workflow).expect_err("refused");
        assert_eq!(e.key, "workflow.flow.0.lock", "{}", d.name());
        assert!(e.message.contains("az-dorch and az-dent"), "{}: {}", d.name(), e.message);
    }
}

#[test]
fn a_deployments_own_flow_runs_on_durable_and_is_refused_elsewhere_at_its_key() {
    let m = Models::builtin().expect("models");
    // The workflow runs `a` as a step; the Durable program runs it inside entity `m` (`fit`).
    let w = |d: &str| {
        format!(
            "[deployment.{d}]\nflow = [{{ call_entity = \"m\", op = \"fit\", step = \"a\" }}]\n\
             [workflow]\ninput_kb = 0\noutput_kb = 0\nflow = [{{ step = \"a\" }}]\n\
             [workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 2.0 }}\nmemory_mb = 64\n\
             [workflow.state.m]\nsize_kb = 1\n"
        )
    };
    for d in Deployment::ALL {
        let s = scenario(&w(d.name()));
        let cfg = s.deployment[d.name()].clone();
        if matches!(d, Deployment::AzDorch | Deployment::AzDent) {
            let o = run_with(&m, d, &s, Arrivals::Interval { interval_s: 10.0 }, 3, true);
            let ops: Vec<_> = exec_instants(&o).into_iter().map(|(e, _, n)| (e, n)).collect();
            assert_eq!(ops, (0..3).map(|e| (e, "m[0] fit".to_string())).collect::<Vec<_>>(), "{}: the program's operation", d.name());
            assert!(o.executions.iter().all(|r| r.latency().as_secs_f64() >= 2.0), "{}: the step's work runs in the entity", d.name());
        } else {
            let e = DeploymentPlan::build(d, &m, &cfg, &s.workflow).expect_err("refused");
            assert_eq!(e.key, format!("deployment.{}.flow", d.name()), "{}", d.name());
            assert_eq!(e.message, "flow applies to az-dorch and az-dent only", "{}", d.name());
        }
    }
}

#[test]
fn an_entity_operation_in_a_parallel_branch_awaits_its_steps_state_reads() {
    // `a` reads `d`: its operation on `m` awaits `d`'s `get` first, whether it stands alone or
    // is the one element of a parallel branch (then a sub-orchestration, as a step with state
    // reads is). Each execution: one batch on `d`, one on `m`.
    let w = |program: &str| {
        format!(
            "[deployment.az-dent]\nflow = {program}\n\
             [workflow]\ninput_kb = 0\noutput_kb = 0\nflow = [{{ parallel = [[{{ step = \"a\" }}], [{{ step = \"b\" }}]] }}]\n\
             [workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 1.0 }}\nmemory_mb = 64\nstate_reads = [\"d\"]\n\
             [workflow.steps.b]\ncpu_s = {{ dist = \"fixed\", value_s = 1.0 }}\nmemory_mb = 64\n\
             [workflow.state.m]\nsize_kb = 1\n[workflow.state.d]\nsize_kb = 1\n"
        )
    };
    let batches = |program: &str| {
        let o = run(Deployment::AzDent, &scenario(&w(program)), Arrivals::Interval { interval_s: 60.0 }, 3, true);
        o.trace.iter().filter(|e| matches!(e, TraceEvent::Slice { name, .. } if name.starts_with("entity ") && name.contains(" operations") && !name.contains("waits"))).count()
    };
    assert_eq!(batches("[{ call_entity = \"m\", op = \"fit\", step = \"a\" }, { step = \"b\" }]"), 6, "in sequence");
    assert_eq!(batches("[{ parallel = [[{ call_entity = \"m\", op = \"fit\", step = \"a\" }], [{ step = \"b\" }]] }]"), 6, "in a branch");
}

#[test]
fn a_signalled_operation_sends_its_steps_other_updates_after_its_work() {
    // `a` (5 CPU-s) runs inside entity `m`, signalled (not awaited), and updates `d`: the `set`
    // on `d` follows `a`'s work, as a plain step's updates follow it, so `d`'s batch starts
    // after `m`'s (the one with the work) ended. `b` keeps the execution running meanwhile;
    // eight Python threads so that no batch waits for a thread.
    let mut m = Models::builtin().expect("models");
    m.azure.function.python_thread_pool.value = 8.0;
    for d in [Deployment::AzDorch, Deployment::AzDent] {
        let s = scenario(&format!(
            "[deployment.{}]\nflow = [{{ signal_entity = \"m\", op = \"fit\", step = \"a\" }}, {{ step = \"b\" }}]\n\
             [workflow]\ninput_kb = 0\noutput_kb = 0\nflow = [{{ step = \"a\" }}, {{ step = \"b\" }}]\n\
             [workflow.steps.a]\ncpu_s = {{ dist = \"fixed\", value_s = 5.0 }}\nmemory_mb = 64\nstate_updates = [\"d\"]\n\
             [workflow.steps.b]\ncpu_s = {{ dist = \"fixed\", value_s = 20.0 }}\nmemory_mb = 64\n\
             [workflow.state.m]\nsize_kb = 1\n[workflow.state.d]\nsize_kb = 1\n",
            d.name()
        ));
        let o = run_with(&m, d, &s, Arrivals::Interval { interval_s: 60.0 }, 1, true);
        let mut batches: Vec<(SimTime, SimTime)> = o
            .trace
            .iter()
            .filter_map(|e| match e {
                TraceEvent::Slice { name, cat: "invocation", start, end, .. } if name.starts_with("entity ") => Some((*start, *end)),
                _ => None,
            })
            .collect();
        assert_eq!(batches.len(), 2, "{}: one batch on m, one on d: {batches:?}", d.name());
        // The longer batch is m's, with a's work.
        batches.sort_by_key(|(s, e)| std::cmp::Reverse(*e - *s));
        let (fit, set) = (batches[0], batches[1]);
        assert!((fit.1 - fit.0).as_secs_f64() >= 5.0, "{}: a's work runs in m: {fit:?}", d.name());
        assert!(set.0 >= fit.1, "{}: d's set ({set:?}) after a's work in m ({fit:?})", d.name());
    }
}
