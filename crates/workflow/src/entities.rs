//! Keyed state objects, entity operations and critical sections, as a scenario writes them.
//!
//! **Models.** A state object (`[workflow.state.<name>]`) is a family of `keys` instances
//! (entities on Durable Functions, objects in storage elsewhere), `account` of 1,000 accounts.
//! Each execution draws `refs` keys of it (with `distinct = true`, all different: the two
//! accounts of a transfer), from `key = { dist = "uniform" }` (default) or
//! `key = { dist = "zipf", exponent = s }` (key k of 1..=keys with probability proportional to
//! k^-s; `rand_distr::Zipf`). A flow names the r-th key of an object as `"account[r]"`
//! (`"account"` is `"account[0]"`). The draw is the platform's concern (`sfsim_platform::
//! workload::entity_keys`: one stream per (execution, object), so every deployment draws the
//! same keys); this module validates the declarations and the references.
//!
//! Flow elements (`Node::CallEntity`, `Node::SignalEntity`, `Node::Lock`):
//! * `{ call_entity = "account[1]", op = "get", op_cpu_s = {...} }`: an awaited operation;
//! * `{ signal_entity = "audit", op = "add" }`: a one-way operation, not awaited;
//! * `step = "train"` beside either: the operation runs that step's work inside the entity
//!   (`EntityOp::step`); only in a Durable deployment's own program (`[deployment.az-dent]
//!   flow`, validated in `scenario.rs`: it runs every step of the workflow as often as
//!   `[workflow] flow`), and in a critical section the step follows a step's rules;
//! * `{ lock = ["account[0]", "account[1]"], body = [...] }`: a critical section with Durable
//!   Functions' `LockAsync` semantics. The body follows the documented critical-section rules
//!   (AZD `durable-functions-entities.md`, "Critical section rules"): no nested critical
//!   section, no sub-orchestration (so no `parallel` or `fan_out` in the body), `call_entity`
//!   only on locked entities, `signal_entity` only on entities not locked.
//!
//! An operation named `get` reads the state; any other name reads and writes it (the entity
//! saves its state after the batch; storage deployments write the object back).
//!
//! **Parameters.** None of the platform's: `keys`, `refs`, `distinct`, `key`, `op_cpu_s` are the
//! scenario's.
//!
//! **Scope and limits.** At most [`MAX_REFS`] references per object per execution and
//! [`MAX_KEYS`] keys per object (key indexes fit the RNG stream key and stay exact in `f64`).
//!
//! **Validation.** Unit tests below and in `scenario.rs` (every error at its key);
//! `crates/platform/tests/entities.rs` runs the elements on every deployment.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Zipf};
use serde::Deserialize;

use crate::dist::{Dist, RawDist};
use crate::source::KeyError;

/// Most keys of one state object (2^40: exact in `f64`, far above any account table).
pub const MAX_KEYS: i64 = 1 << 40;
/// Most keys of one object an execution draws.
pub const MAX_REFS: i64 = 64;

/// `key = { dist = ... }`: how an execution picks a key of a state object.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawKeyChoice {
    /// Every key equally likely.
    Uniform {},
    /// Key k (1-based) with probability proportional to k^-exponent.
    Zipf {
        /// The exponent s >= 0 (0 is uniform).
        exponent: f64,
    },
}

/// A validated key choice over `keys` keys.
#[derive(Clone, Debug)]
pub enum KeyChoice {
    /// Uniform over the keys.
    Uniform,
    /// Zipf over the keys (1-based as drawn; stored keys are 0-based).
    Zipf(Zipf<f64>),
}

impl KeyChoice {
    /// Validates `raw` for an object of `keys` keys, found at `key`.
    pub fn from_raw(raw: Option<&RawKeyChoice>, keys: u64, key: &str) -> Result<KeyChoice, KeyError> {
        match raw {
            None | Some(RawKeyChoice::Uniform {}) => Ok(KeyChoice::Uniform),
            Some(RawKeyChoice::Zipf { exponent }) => {
                if !(exponent.is_finite() && (0.0..=100.0).contains(exponent)) {
                    return Err(KeyError::new(
                        format!("{key}.exponent"),
                        format!("must be a finite number in [0, 100], got {}", crate::short_number(*exponent)),
                    ));
                }
                Zipf::new(keys as f64, *exponent)
                    .map(KeyChoice::Zipf)
                    .map_err(|e| KeyError::new(key, format!("invalid zipf distribution: {e}")))
            }
        }
    }

    /// Draws one key in `0..keys`.
    pub fn sample<R: Rng + ?Sized>(&self, keys: u64, rng: &mut R) -> u64 {
        match self {
            KeyChoice::Uniform => rng.random_range(0..keys),
            KeyChoice::Zipf(z) => (z.sample(rng) as u64).clamp(1, keys) - 1,
        }
    }
}

/// How a state object's keys are drawn.
#[derive(Clone, Debug)]
pub struct Keying {
    /// Number of keys (>= 1).
    pub keys: u64,
    /// The key choice.
    pub choice: KeyChoice,
    /// Keys drawn per execution (>= 1).
    pub refs: u32,
    /// The drawn keys are all different.
    pub distinct: bool,
}

impl Keying {
    /// Validates the keying of the object at `key` (`workflow.state.<name>`): its `keys`, `key`,
    /// `refs` and `distinct`.
    pub fn from_raw(
        keys: Option<i64>,
        choice: Option<&RawKeyChoice>,
        refs: Option<i64>,
        distinct: bool,
        key: &str,
    ) -> Result<Keying, KeyError> {
        let keys = keys.unwrap_or(1);
        if !(1..=MAX_KEYS).contains(&keys) {
            return Err(KeyError::new(format!("{key}.keys"), format!("must be within 1-{MAX_KEYS}, got {keys}")));
        }
        let refs = refs.unwrap_or(1);
        if !(1..=MAX_REFS).contains(&refs) {
            return Err(KeyError::new(format!("{key}.refs"), format!("must be within 1-{MAX_REFS}, got {refs}")));
        }
        if distinct && refs > keys {
            return Err(KeyError::new(
                format!("{key}.refs"),
                format!("{refs} distinct keys cannot be drawn from {keys} key(s): raise `keys` or drop `distinct`"),
            ));
        }
        let choice = KeyChoice::from_raw(choice, keys as u64, &format!("{key}.key"))?;
        Ok(Keying { keys: keys as u64, choice, refs: refs as u32, distinct })
    }
}

/// Index of a state object in `Workflow::state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u32);

/// The `slot`-th key an execution drew of state object `state` (`"account[1]"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    /// The object.
    pub state: StateId,
    /// Which of its drawn keys.
    pub slot: u32,
}

/// Index of an entity operation in `Workflow::entity_ops`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityOpId(pub u32);

/// A validated `call_entity` or `signal_entity` element.
#[derive(Clone, Debug)]
pub struct EntityOp {
    /// The entity.
    pub target: EntityRef,
    /// Operation name.
    pub op: String,
    /// The operation writes the state (every name but `get`).
    pub writes: bool,
    /// The operation's own work, CPU-seconds at one vCPU.
    pub cpu: Dist,
    /// A step whose work (CPU, I/O, memory, storage objects, payloads) runs inside the entity as
    /// part of the operation (`{ call_entity = "model", op = "fit", step = "train" }`); only in a
    /// Durable deployment's own flow.
    pub step: Option<crate::scenario::StepId>,
}

/// Parses `"name"` or `"name[i]"` against the declared objects (names and their `refs`).
pub fn parse_ref(text: &str, key: &str, names: &[&str], refs: &[u32]) -> Result<EntityRef, KeyError> {
    let (name, slot) = match text.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((n, i)) => {
            let i: u32 = i.trim().parse().map_err(|_| {
                KeyError::new(key, format!("`{text}`: the key index in brackets must be a whole number (`{n}[0]`, `{n}[1]`)"))
            })?;
            (n, i)
        }
        None => (text, 0),
    };
    let Some(p) = names.iter().position(|x| *x == name) else {
        return Err(KeyError::new(
            key,
            format!("unknown state object `{name}`{} (declare it as [workflow.state.{name}])", crate::suggest(name, names)),
        ));
    };
    if slot >= refs[p] {
        return Err(KeyError::new(
            key,
            format!(
                "`{text}`: each execution draws {} key(s) of `{name}` ([workflow.state.{name}] refs), so the index must be below {}",
                refs[p], refs[p]
            ),
        ));
    }
    Ok(EntityRef { state: StateId(p as u32), slot })
}

/// Validates the op fields of a `call_entity` / `signal_entity` element at `key`.
pub fn entity_op(
    target: EntityRef,
    op: Option<&str>,
    default_op: &str,
    cpu: Option<&RawDist>,
    step: Option<crate::scenario::StepId>,
    key: &str,
) -> Result<EntityOp, KeyError> {
    let op = op.unwrap_or(default_op).to_string();
    if op.trim().is_empty() {
        return Err(KeyError::new(format!("{key}.op"), "an operation needs a name (`get` reads; any other name reads and writes)"));
    }
    let cpu = cpu.map(|r| Dist::from_raw(r, &format!("{key}.op_cpu_s"))).transpose()?.unwrap_or(Dist::fixed(0.0));
    Ok(EntityOp { target, writes: op != "get", op, cpu, step })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn references_parse_with_their_index() {
        let names = ["account", "audit"];
        let refs = [2, 1];
        assert_eq!(parse_ref("account", "k", &names, &refs).unwrap(), EntityRef { state: StateId(0), slot: 0 });
        assert_eq!(parse_ref("account[1]", "k", &names, &refs).unwrap(), EntityRef { state: StateId(0), slot: 1 });
        let e = parse_ref("account[2]", "k", &names, &refs).unwrap_err();
        assert!(e.message.contains("below 2"), "{}", e.message);
        let e = parse_ref("acount", "k", &names, &refs).unwrap_err();
        assert!(e.message.contains("did you mean `account`"), "{}", e.message);
        let e = parse_ref("account[x]", "k", &names, &refs).unwrap_err();
        assert!(e.message.contains("whole number"), "{}", e.message);
    }

    #[test]
    fn zipf_keys_favour_the_first_and_stay_in_range() {
        let z = KeyChoice::from_raw(Some(&RawKeyChoice::Zipf { exponent: 1.2 }), 1000, "k").unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let draws: Vec<u64> = (0..20_000).map(|_| z.sample(1000, &mut rng)).collect();
        assert!(draws.iter().all(|&k| k < 1000));
        let first = draws.iter().filter(|&&k| k == 0).count() as f64 / draws.len() as f64;
        // P(k = 1) = 1 / H(1000, 1.2), H = sum k^-1.2 ~ 4.3.
        let h: f64 = (1..=1000).map(|k| (k as f64).powf(-1.2)).sum();
        assert!((first - 1.0 / h).abs() < 0.01, "P(first key) {first} vs {}", 1.0 / h);
        let u = KeyChoice::Uniform;
        assert!((0..1000).all(|_| u.sample(1, &mut rng) == 0));
    }
}
