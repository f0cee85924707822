//! Property test over random machines (own deterministic generator, no extra dependencies):
//! random Pass/Choice/Wait/Parallel/Map/Task/Fail machines never panic, always close, keep
//! contiguous event ids with backward previous ids, and neither snapshot/restore at random
//! steps nor turning history off changes the outcome.

mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};

use harness::{LAMBDA, Setup, World};
use ironstep_core::{Entropy, Input, Options, SeededEntropy, TaskRequest};
use serde_json::{Value, json};

/// A tiny deterministic generator on top of SplitMix64.
struct Gen(SeededEntropy);

impl Gen {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

struct MachineGen {
    g: Gen,
    names: usize,
}

impl MachineGen {
    fn name(&mut self) -> String {
        self.names += 1;
        format!("S{}", self.names)
    }

    /// A scope (`StartAt` + `States`). State `i` always continues to `i + 1` (so every state is
    /// reachable and the graph is acyclic); Choice rules and catchers may jump further ahead.
    fn scope(&mut self, depth: u32) -> Value {
        let n = 1 + self.g.below(4) as usize;
        let names: Vec<String> = (0..n).map(|_| self.name()).collect();
        let mut states = serde_json::Map::new();
        for i in 0..n {
            let last = i + 1 == n;
            let ahead = |g: &mut Gen| names[i + 1 + g.below((n - i - 1) as u64) as usize].clone();
            let kinds: &[&str] = if last {
                &["Pass", "Wait", "Succeed", "Fail", "Parallel", "Map", "Task"]
            } else {
                &["Pass", "Wait", "Choice", "Parallel", "Map", "Task"]
            };
            let mut kind = self.g.pick(kinds);
            if depth == 0 && (kind == "Parallel" || kind == "Map") {
                kind = "Pass";
            }
            if kind == "Fail" && !self.g.chance(30) {
                kind = "Succeed";
            }
            let mut s = match kind {
                "Pass" => match self.g.below(4) {
                    0 => json!({"Type": "Pass"}),
                    1 => {
                        json!({"Type": "Pass", "Result": {"n": self.g.below(10)}, "ResultPath": "$.r"})
                    }
                    2 => {
                        json!({"Type": "Pass", "Parameters": {"n.$": "$$.Execution.Input.n", "prev.$": "$.n"}})
                    }
                    _ => {
                        json!({"Type": "Pass", "Assign": {"v": self.g.below(5)}, "Result": {"n": self.g.below(10)}})
                    }
                },
                "Wait" => json!({"Type": "Wait", "Seconds": self.g.below(5)}),
                "Succeed" => json!({"Type": "Succeed"}),
                "Fail" => {
                    json!({"Type": "Fail", "Error": "Generated", "Cause": "by the generator"})
                }
                "Choice" => {
                    let k = self.g.below(10);
                    let op = self.g.pick(&[
                        "NumericGreaterThan",
                        "NumericLessThanEquals",
                        "NumericEquals",
                    ]);
                    let cond = json!({"And": [
                        {"Variable": "$.n", "IsPresent": true},
                        {"Variable": "$.n", "IsNumeric": true},
                        {"Variable": "$.n", op: k}]});
                    let mut rules = vec![{
                        let mut r = cond;
                        r["Next"] = json!(ahead(&mut self.g));
                        r
                    }];
                    if self.g.chance(30) {
                        rules.push(json!({"Not": {"Variable": "$.n", "IsPresent": true}, "Next": ahead(&mut self.g)}));
                    }
                    let mut c =
                        json!({"Type": "Choice", "Choices": rules, "Default": names[i + 1]});
                    if self.g.chance(10) {
                        // No Default: may end in States.NoChoiceMatched.
                        c.as_object_mut().unwrap().remove("Default");
                        c["Choices"].as_array_mut().unwrap().push(
                            json!({"Variable": "$.n", "IsPresent": true, "Next": names[i + 1]}),
                        );
                    }
                    c
                }
                "Parallel" => {
                    let branches: Vec<Value> = (0..1 + self.g.below(3))
                        .map(|_| self.scope(depth - 1))
                        .collect();
                    json!({"Type": "Parallel", "Branches": branches, "ResultPath": if self.g.chance(50) { json!(null) } else { json!("$.par") }})
                }
                "Map" => {
                    let mut m = json!({"Type": "Map", "ItemsPath": "$$.Execution.Input.items",
                        "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                        "MaxConcurrency": self.g.below(3),
                        "ItemProcessor": self.scope(depth - 1),
                        "ResultPath": "$.mapped"});
                    if self.g.chance(30) {
                        m["ToleratedFailureCount"] = json!(self.g.below(2));
                    }
                    m
                }
                _ => {
                    let mut t = json!({"Type": "Task", "Resource": LAMBDA, "Parameters": {"n.$": "$.n"}, "ResultPath": "$.t"});
                    if self.g.chance(50) {
                        t["Retry"] = json!([{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1 + self.g.below(3),
                            "MaxAttempts": self.g.below(3), "JitterStrategy": if self.g.chance(50) { "FULL" } else { "NONE" }}]);
                    }
                    if self.g.chance(30) {
                        t["TimeoutSeconds"] = json!(5 + self.g.below(10));
                    }
                    if !last && self.g.chance(50) {
                        t["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": ahead(&mut self.g)}]);
                    }
                    t
                }
            };
            if (kind == "Parallel" || kind == "Map") && self.g.chance(30) {
                s["Retry"] = json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}]);
            }
            if !matches!(kind, "Choice" | "Succeed" | "Fail") {
                if last {
                    s["End"] = json!(true);
                } else {
                    s["Next"] = json!(names[i + 1]);
                }
            }
            states.insert(names[i].clone(), s);
        }
        json!({"StartAt": names[0], "States": states})
    }
}

/// How the outside world answers a task: deterministic in the state, the attempt and the
/// parameters (not the task id, which differs when history is off).
fn answer(t: &TaskRequest) -> Input {
    let mut h: u64 = t.attempt as u64 * 7 + t.parameters.to_string().len() as u64;
    for b in t.state_name.bytes() {
        h = h.wrapping_mul(31).wrapping_add(b as u64);
    }
    let h = h % 10;
    match h {
        0..=5 => Input::TaskSucceeded {
            task_id: t.task_id,
            output: json!({"ok": h}),
        },
        6 | 7 => Input::TaskFailed {
            task_id: t.task_id,
            error: Some("Flaky".into()),
            cause: Some("try again".into()),
        },
        _ => Input::TaskFailed {
            task_id: t.task_id,
            error: Some("Fatal".into()),
            cause: None,
        },
    }
}

/// Run to the end. `restore` decides, per input, whether to snapshot and reload first; `stop_at`
/// sends a StopExecution as that input.
fn run(
    def: &str,
    input: &str,
    seed: u64,
    history: bool,
    restore: &mut dyn FnMut() -> bool,
    stop_at: Option<usize>,
) -> World {
    let mut w = World::start_with(
        def,
        input,
        Setup {
            seed,
            roundtrip: false,
            options: Options {
                record_history: history,
            },
        },
    );
    for n in 0..20_000 {
        if w.outcome().is_some() {
            return w;
        }
        if restore() {
            let bytes = serde_json::to_vec(&w.exec).unwrap();
            w.exec = serde_json::from_slice(&bytes).unwrap();
        }
        if stop_at == Some(n) {
            w.stop(Some("Stop"), None);
            continue;
        }
        if let Some(t) = w.tasks.first().cloned() {
            w.input(answer(&t));
        } else if !w.fire_next_timer() {
            panic!("stuck: nothing to answer and no timer\n{}", w.render());
        }
    }
    panic!("did not finish in 20000 inputs\n{}", w.render());
}

fn check_machine(case: u64) {
    let mut mg = MachineGen {
        g: Gen(SeededEntropy(case)),
        names: 0,
    };
    let mut def = mg.scope(2);
    if mg.g.chance(10) {
        def["TimeoutSeconds"] = json!(3 + mg.g.below(10));
    }
    let def = def.to_string();
    let items: Vec<u64> = (0..mg.g.below(4)).map(|i| i * 3).collect();
    let input = json!({"n": mg.g.below(10), "items": items}).to_string();
    let stop_at = mg.g.chance(15).then(|| mg.g.below(6) as usize);
    let seed = mg.g.below(1000);

    let result = catch_unwind(AssertUnwindSafe(|| {
        let plain = run(&def, &input, seed, true, &mut || false, stop_at);
        plain.check_invariants();
        let outcome = plain.outcome().cloned().expect("closed");

        let mut cuts = Gen(SeededEntropy(case ^ 0xABCD));
        let restored = run(&def, &input, seed, true, &mut || cuts.chance(40), stop_at);
        assert_eq!(
            plain.history, restored.history,
            "restore changed the history"
        );
        assert_eq!(Some(&outcome), restored.outcome());

        let quiet = run(&def, &input, seed, false, &mut || false, stop_at);
        assert!(quiet.history.is_empty());
        assert_eq!(
            Some(&outcome).map(|o| o.status()),
            quiet.outcome().map(|o| o.status()),
            "history off changed the outcome"
        );
        if let ironstep_core::Outcome::Succeeded(v) = &outcome {
            assert_eq!(
                quiet.outcome(),
                Some(&ironstep_core::Outcome::Succeeded(v.clone()))
            );
        }
        outcome.status()
    }));
    if let Err(e) = result {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!(
            "case {case} failed: {msg}\ndefinition: {def}\ninput: {input}\nstop_at: {stop_at:?}"
        );
    }
}

#[test]
fn random_machines_never_panic_keep_history_invariants_and_survive_restore() {
    for case in 0..1000 {
        check_machine(case);
    }
}

#[test]
fn the_generator_covers_every_outcome() {
    // Guard against a generator that only ever produces trivial machines.
    let mut statuses = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for case in 0..400 {
        let mut mg = MachineGen {
            g: Gen(SeededEntropy(case)),
            names: 0,
        };
        let mut def = mg.scope(2);
        if mg.g.chance(10) {
            def["TimeoutSeconds"] = json!(3 + mg.g.below(10));
        }
        let items: Vec<u64> = (0..mg.g.below(4)).map(|i| i * 3).collect();
        let input = json!({"n": mg.g.below(10), "items": items}).to_string();
        let stop_at = mg.g.chance(15).then(|| mg.g.below(6) as usize);
        let seed = mg.g.below(1000);
        let w = run(&def.to_string(), &input, seed, true, &mut || false, stop_at);
        statuses.insert(w.outcome().unwrap().status());
        types.extend(w.types());
    }
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    );
    for t in [
        "ChoiceStateExited",
        "WaitStateExited",
        "ParallelStateSucceeded",
        "MapIterationSucceeded",
        "TaskSucceeded",
        "TaskFailed",
        "TaskStateAborted",
        "MapIterationAborted",
    ] {
        assert!(types.contains(t), "no generated run recorded {t}");
    }
}
