//! Sampling settings: what the user may override, the defaults of each model family, and the
//! llama.cpp sampler chain they become.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::EngineError;

/// Sampling settings as a user or a caller gives them: every field left `None` takes the model
/// family's default (see [`Sampling::defaults_for`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingParams {
    /// Softmax temperature; 0 means greedy decoding.
    pub temperature: Option<f32>,
    /// Keep only the k most likely tokens (0 disables).
    pub top_k: Option<i32>,
    /// Nucleus sampling: keep the smallest set whose probability reaches p (1 disables).
    pub top_p: Option<f32>,
    /// Drop tokens less likely than min_p times the most likely one (0 disables).
    pub min_p: Option<f32>,
    /// Penalty for tokens seen in the last 64 tokens (1 disables).
    pub repeat_penalty: Option<f32>,
    /// Seed of the random sampler; a random one when unset.
    pub seed: Option<u32>,
    /// Stop after this many generated tokens; unlimited (up to the context) when unset.
    pub max_tokens: Option<u32>,
    /// Forces greedy decoding whatever the temperature.
    pub greedy: bool,
}

/// Resolved sampling settings, every value decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Sampling {
    /// Softmax temperature; 0 means greedy decoding.
    pub temperature: f32,
    /// Top-k cut-off (0 disables).
    pub top_k: i32,
    /// Top-p cut-off (1 disables).
    pub top_p: f32,
    /// Min-p cut-off (0 disables).
    pub min_p: f32,
    /// Repetition penalty (1 disables).
    pub repeat_penalty: f32,
    /// Seed of the random sampler.
    pub seed: u32,
    /// Maximum number of generated tokens, if any.
    pub max_tokens: Option<u32>,
}

/// How many recent tokens the repetition penalty looks at (llama.cpp's default).
const PENALTY_LAST_N: i32 = 64;

/// A sampling value outside its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} must be {range}, got {value}")]
pub struct SamplingRangeError {
    /// The option's name as the user knows it.
    pub name: &'static str,
    /// The allowed range, in words.
    pub range: &'static str,
    /// The value given.
    pub value: String,
}

impl SamplingParams {
    /// Checks every value that is set against its range.
    pub fn validate(&self) -> Result<(), SamplingRangeError> {
        fn check<T: PartialOrd + ToString + Copy>(
            name: &'static str,
            value: Option<T>,
            range: &'static str,
            ok: impl Fn(T) -> bool,
        ) -> Result<(), SamplingRangeError> {
            match value {
                Some(v) if !ok(v) => Err(SamplingRangeError { name, range, value: v.to_string() }),
                _ => Ok(()),
            }
        }
        check("temperature", self.temperature, "between 0 and 5", |t: f32| (0.0..=5.0).contains(&t))?;
        check("top-k", self.top_k, "between 0 and 1000", |k| (0..=1000).contains(&k))?;
        check("top-p", self.top_p, "above 0 and at most 1", |p: f32| p > 0.0 && p <= 1.0)?;
        check("min-p", self.min_p, "between 0 and 1", |p: f32| (0.0..=1.0).contains(&p))?;
        check("repeat-penalty", self.repeat_penalty, "between 0.5 and 2", |p: f32| (0.5..=2.0).contains(&p))?;
        check("max-tokens", self.max_tokens, "at least 1", |n| n >= 1)?;
        Ok(())
    }

    /// Fills every unset value from the defaults of the model's family.
    pub fn resolve(&self, architecture: &str) -> Sampling {
        let defaults = Sampling::defaults_for(architecture);
        let temperature = if self.greedy { 0.0 } else { self.temperature.unwrap_or(defaults.temperature) };
        Sampling {
            temperature,
            top_k: self.top_k.unwrap_or(defaults.top_k),
            top_p: self.top_p.unwrap_or(defaults.top_p),
            min_p: self.min_p.unwrap_or(defaults.min_p),
            repeat_penalty: self.repeat_penalty.unwrap_or(defaults.repeat_penalty),
            seed: self.seed.unwrap_or_else(random_seed),
            max_tokens: self.max_tokens,
        }
    }
}

impl Sampling {
    /// The recommended settings of a model family. Google recommends temperature 1.0, top-k 64
    /// and top-p 0.95 for Gemma 3 and Gemma 4; others get llama.cpp's defaults.
    pub fn defaults_for(architecture: &str) -> Sampling {
        let gemma = architecture.starts_with("gemma");
        Sampling {
            temperature: if gemma { 1.0 } else { 0.8 },
            top_k: if gemma { 64 } else { 40 },
            top_p: 0.95,
            min_p: if gemma { 0.0 } else { 0.05 },
            repeat_penalty: 1.0,
            seed: 0,
            max_tokens: None,
        }
    }

    /// True when the next token is always the most likely one.
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// Builds llama.cpp's sampler chain in its usual order: penalties, top-k, top-p, min-p,
    /// temperature, then the draw. A `grammar` (GBNF, root rule `root`) goes first, so that the
    /// others only choose among the tokens it allows.
    pub(crate) fn sampler(&self, model: &LlamaModel, grammar: Option<&str>) -> Result<LlamaSampler, EngineError> {
        let mut chain = Vec::new();
        if let Some(grammar) = grammar {
            let constraint = LlamaSampler::grammar(model, grammar, "root")
                .map_err(|error| EngineError::BadRequest(format!("the grammar is not valid GBNF: {error}")))?;
            chain.push(constraint);
        }
        let n_vocab = model.n_vocab();
        if self.repeat_penalty != 1.0 {
            chain.push(LlamaSampler::penalties(n_vocab, PENALTY_LAST_N, self.repeat_penalty, 0.0, 0.0));
        }
        if self.is_greedy() {
            chain.push(LlamaSampler::greedy());
        } else {
            if self.top_k > 0 {
                chain.push(LlamaSampler::top_k(self.top_k));
            }
            if self.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(self.top_p, 1));
            }
            if self.min_p > 0.0 {
                chain.push(LlamaSampler::min_p(self.min_p, 1));
            }
            chain.push(LlamaSampler::temp(self.temperature));
            chain.push(LlamaSampler::dist(self.seed));
        }
        Ok(LlamaSampler::chain_simple(chain))
    }
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemma_defaults_follow_googles_recommendation() {
        let s = SamplingParams::default().resolve("gemma4");
        assert_eq!((s.temperature, s.top_k, s.top_p), (1.0, 64, 0.95));
    }

    #[test]
    fn greedy_overrides_the_temperature() {
        let params = SamplingParams { temperature: Some(0.7), greedy: true, ..Default::default() };
        assert!(params.resolve("gemma3").is_greedy());
    }

    #[test]
    fn out_of_range_values_name_the_option() {
        let params = SamplingParams { top_p: Some(1.5), ..Default::default() };
        let error = params.validate().unwrap_err();
        assert_eq!(error.to_string(), "top-p must be above 0 and at most 1, got 1.5");
        assert!(SamplingParams { temperature: Some(-1.0), ..Default::default() }.validate().is_err());
        assert!(SamplingParams { max_tokens: Some(0), ..Default::default() }.validate().is_err());
        assert!(SamplingParams::default().validate().is_ok());
    }
}
