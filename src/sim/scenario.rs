//! A simulation scenario (`*.sim.toml`): which configuration, how long,
//! who calls, how agents behave.
//!
//! ```toml
//! config = "hotline.toml"     # relative to this file
//! hours = 8.0
//! seed = 7
//! [[arrivals]]
//! queue = "support"
//! per_hour = 400.0
//! handle_seconds = 180.0
//! handle = "exponential"      # or "uniform" (mean +- 50 %) or "fixed"
//! patience_seconds = 120.0    # mean, exponential; 0 = never gives up
//! vip_share = 0.05            # priority 10 callers
//! callback_share = 0.0        # of those who give up, ask for a callback
//! [behaviour]
//! answer_seconds = 2.0        # mean time to answer
//! no_answer_share = 0.02      # ring out
//! busy_share = 0.01
//! reject_share = 0.0
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HandleDist {
    #[default]
    Exponential,
    Uniform,
    Fixed,
}

impl HandleDist {
    pub fn sample(self, rng: &mut Rng, mean: f64) -> f64 {
        match self {
            HandleDist::Exponential => rng.exp(mean),
            HandleDist::Uniform => mean * (0.5 + rng.unit()),
            HandleDist::Fixed => mean,
        }
    }
}

fn d_numbers() -> u64 {
    100_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    pub queue: String,
    pub per_hour: f64,
    pub handle_seconds: f64,
    #[serde(default)]
    pub handle: HandleDist,
    #[serde(default)]
    pub patience_seconds: f64,
    #[serde(default)]
    pub vip_share: f64,
    #[serde(default)]
    pub callback_share: f64,
    /// Caller numbers are `number_prefix` + 0..numbers (repeat callers
    /// exercise sticky routing).
    #[serde(default)]
    pub number_prefix: String,
    #[serde(default = "d_numbers")]
    pub numbers: u64,
    #[serde(default)]
    pub skills: Vec<(String, u8)>,
}

fn d_answer() -> f64 {
    2.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    #[serde(default = "d_answer")]
    pub answer_seconds: f64,
    #[serde(default)]
    pub no_answer_share: f64,
    #[serde(default)]
    pub busy_share: f64,
    #[serde(default)]
    pub reject_share: f64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour { answer_seconds: d_answer(), no_answer_share: 0.0, busy_share: 0.0, reject_share: 0.0 }
    }
}

fn d_seed() -> u64 {
    1
}

fn d_drain() -> f64 {
    3600.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Path of the hotline.toml to use (relative to the scenario file).
    pub config: PathBuf,
    pub hours: f64,
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// After arrivals stop, run this long to let the queue drain.
    #[serde(default = "d_drain")]
    pub drain_seconds: f64,
    pub arrivals: Vec<Arrival>,
    #[serde(default)]
    pub behaviour: Behaviour,
}

#[derive(Debug)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError(format!("{}: {e}", path.display())))?;
        let mut s: Scenario = toml::from_str(&text).map_err(|e| ScenarioError(format!("{}: {e}", path.display())))?;
        if s.config.is_relative() {
            if let Some(dir) = path.parent() {
                s.config = dir.join(&s.config);
            }
        }
        Ok(s)
    }
}
