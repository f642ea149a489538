//! The results of a run: one [`Outcome`] per scenario, store and variant, written as JSON (for
//! tools) and as a Markdown table (for `docs/benchmarks.md`), with the machine they ran on.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::stats::Summary;

/// A correctness check of a scenario (nothing lost, nothing doubled); the smoke test asserts
/// them, the report lists the failed ones.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// The figures behind it.
    pub detail: String,
}

impl Check {
    /// A check from a condition.
    #[must_use]
    pub fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// The result of one scenario on one store (for B2, one filter).
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `B1`, `B2`, `B3` or `B5`.
    pub scenario: String,
    /// `sqlite` or `postgres`.
    pub store: String,
    /// What was measured (`ingest`, `list all`, ...).
    pub variant: String,
    /// The unit of `value` and `baseline` (`msg/s`, `ms p99`, ...).
    pub unit: String,
    /// The figure the target is about.
    pub value: f64,
    /// The same figure of the raw baseline, measured in the same run.
    pub baseline: Option<f64>,
    /// `value / baseline`, or for latencies `baseline / value` (so that 1.0 is the raw limit
    /// and smaller is further from it).
    pub ratio: Option<f64>,
    /// The quality target, as words.
    pub target: String,
    /// Whether the target is met at this size (None: not judged, e.g. a smaller size than the
    /// target's).
    pub met: Option<bool>,
    /// Throughput and latencies of the server.
    pub server: Summary,
    /// Throughput and latencies of the raw baseline.
    pub raw: Option<Summary>,
    /// Other figures (memory, sizes, errors), by name.
    pub extra: Vec<(String, String)>,
    /// Correctness checks.
    pub checks: Vec<Check>,
}

/// The machine a run was made on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory, MB.
    pub memory_mb: u64,
    /// Kernel, from `/proc/sys/kernel/osrelease`.
    pub kernel: String,
}

impl Machine {
    /// Reads what it can of this machine.
    #[must_use]
    pub fn this() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_mb = meminfo
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024);
        Self {
            cpu,
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            memory_mb,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When it started (UTC, RFC 3339).
    pub started: String,
    /// The command line.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// Every outcome, in the order run.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// Every failed correctness check, as `scenario store variant: check (detail)`.
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .flat_map(|o| {
                o.checks.iter().filter(|c| !c.ok).map(move |c| {
                    format!(
                        "{} {} {}: {} ({})",
                        o.scenario, o.store, o.variant, c.name, c.detail
                    )
                })
            })
            .collect()
    }

    /// The Markdown table of the run.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "Run {} on {} ({} CPUs, {} MB, Linux {}):\n\n`{}`\n",
            self.started, m.cpu, m.cpus, m.memory_mb, m.kernel, self.command
        );
        out.push_str("| scenario | store | measure | server | p50 ms | p99 ms | raw baseline | raw p99 ms | ratio | target | met |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for o in &self.outcomes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} {} | {:.2} | {:.2} | {} | {} | {} | {} | {} |",
                o.scenario,
                o.store,
                o.variant,
                figure(o.value),
                o.unit,
                o.server.p50_ms,
                o.server.p99_ms,
                o.baseline.map_or_else(|| "-".to_owned(), figure),
                o.raw
                    .map_or_else(|| "-".to_owned(), |r| format!("{:.2}", r.p99_ms)),
                o.ratio
                    .map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0)),
                o.target,
                match o.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "n/a",
                },
            );
        }
        let extras: Vec<_> = self
            .outcomes
            .iter()
            .filter(|o| !o.extra.is_empty())
            .collect();
        if !extras.is_empty() {
            out.push_str("\n| scenario | store | measure | other figures |\n|---|---|---|---|\n");
            for o in extras {
                let figures: Vec<_> = o.extra.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    o.scenario,
                    o.store,
                    o.variant,
                    figures.join("; ")
                );
            }
        }
        let failures = self.failures();
        out.push_str(if failures.is_empty() {
            "\nEvery correctness check held (nothing lost, nothing doubled).\n"
        } else {
            "\nFailed correctness checks:\n"
        });
        for failure in failures {
            let _ = writeln!(out, "- {failure}");
        }
        out
    }

    /// Writes `results.json` and `results.md` into `dir`.
    ///
    /// # Errors
    /// When the directory or the files cannot be written.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("results.json"), json)?;
        std::fs::write(dir.join("results.md"), self.markdown())
    }
}

fn figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}
