//! Loading a model: validate the GGUF in Rust, hand it to llama.cpp, pick its chat template and
//! load its projector (mmproj) if one was given.

use std::path::Path;
use std::time::Instant;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::mtmd::{MtmdContext, MtmdContextParams};
use llama_cpp_2::token::LlamaToken;

use crate::error::EngineError;
use crate::gguf::{GgufInfo, inspect};
use crate::media::{DEFAULT_IMAGE_TOKENS, IMAGE_TOKEN_BUDGETS, Projector};
use crate::protocol::LoadOptions;
use crate::template::ChatTemplate;

/// A model loaded by llama.cpp, with everything needed to prompt it.
pub struct LoadedModel {
    // Declared before `model`: the projector points into the model and must be freed first.
    pub(crate) projector: Option<Projector>,
    pub(crate) model: LlamaModel,
    pub(crate) gguf: GgufInfo,
    pub(crate) template: ChatTemplate,
    pub(crate) gpu_layers: u32,
    pub(crate) load_ms: f64,
    /// Why the model runs on the CPU although GPU layers were asked for.
    pub(crate) cpu_fallback: Option<String>,
    pub(crate) tool_tokens: ToolTokens,
}

/// Gemma 4's tool-call control tokens, as this model's vocabulary has them (none in others).
/// A reply is rendered without control tokens, but these carry a call's syntax, so they are
/// kept in its text; `<|tool_response>` ends a reply that waits for its tools' results.
#[derive(Debug, Default)]
pub(crate) struct ToolTokens {
    /// The tokens a call is written in, with their text: [`ToolTokens::SYNTAX`]'s, where the
    /// vocabulary has them.
    syntax: Vec<(&'static str, LlamaToken)>,
    tool_response: Option<LlamaToken>,
}

impl ToolTokens {
    /// The grammar rule that stands for each control token of a call's syntax, and its text.
    const SYNTAX: [(&'static str, &'static str); 3] =
        [("tool-call-open", "<|tool_call>"), ("tool-call-close", "<tool_call|>"), ("tool-quote", "<|\"|>")];

    fn of(model: &LlamaModel) -> ToolTokens {
        let vocab = model.vocab();
        let control = |text: &str| match vocab.tokenize(text.as_bytes(), false, true).as_slice() {
            // A control token renders as nothing unless special tokens are asked for.
            &[token] if vocab.token_to_piece(token, false, None).is_empty() => Some(token),
            _ => None,
        };
        ToolTokens {
            syntax: Self::SYNTAX.iter().filter_map(|&(_, text)| Some((text, control(text)?))).collect(),
            tool_response: control("<|tool_response>").filter(|&token| vocab.is_eog(token)),
        }
    }

    /// Whether `token` is rendered in a reply's text although it is a control token.
    pub(crate) fn is_shown(&self, token: LlamaToken) -> bool {
        self.syntax.iter().any(|&(_, shown)| shown == token)
    }

    /// Whether `token` ends a reply that called tools.
    pub(crate) fn is_tool_response(&self, token: LlamaToken) -> bool {
        self.tool_response == Some(token)
    }

    /// GBNF rules `tool-call-open`, `tool-call-close` and `tool-quote`: the control token where
    /// the vocabulary has it (a grammar's string would spell it out in ordinary tokens), its text
    /// where it has none.
    pub(crate) fn grammar_rules(&self) -> String {
        let mut rules = String::new();
        for (rule, text) in Self::SYNTAX {
            let element = match self.syntax.iter().find(|&&(shown, _)| shown == text) {
                Some((_, token)) => format!("<[{}]>", token.0),
                None => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
            };
            rules.push_str(&format!("{rule} ::= {element}\n"));
        }
        rules
    }
}

impl LoadedModel {
    /// Validates and loads the model (and projector) named in `options`.
    pub fn load(backend: &LlamaBackend, options: &LoadOptions) -> Result<LoadedModel, EngineError> {
        let started = Instant::now();
        let gguf = inspect(&options.model)?;
        if gguf.is_projector {
            return Err(EngineError::InvalidModel(format!(
                "{} is a projector (mmproj) file, not a language model; pass it as the mmproj and choose the model GGUF itself",
                options.model.display()
            )));
        }
        let projector_gguf = match &options.mmproj {
            Some(mmproj) => {
                let projector = inspect(mmproj)?;
                if !projector.is_projector {
                    return Err(EngineError::InvalidModel(format!(
                        "{} is not a projector (mmproj) file: its architecture is {}",
                        mmproj.display(),
                        projector.architecture
                    )));
                }
                Some(projector)
            }
            None => None,
        };
        let image_tokens = options.image_tokens.unwrap_or(DEFAULT_IMAGE_TOKENS);
        if !IMAGE_TOKEN_BUDGETS.contains(&image_tokens) {
            return Err(EngineError::BadRequest(format!(
                "the image-token budget must be one of {IMAGE_TOKEN_BUDGETS:?}, got {image_tokens}"
            )));
        }

        let mut gpu_layers =
            options.gpu_layers.unwrap_or(if backend.supports_gpu_offload() { u32::MAX / 2 } else { 0 });
        let load = |gpu_layers| {
            let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
            LlamaModel::load_from_file(backend, &options.model, &params).map_err(|error| {
                EngineError::LoadFailed(format!(
                    "llama.cpp could not load {}: {error}; the file may use a feature this build does not support",
                    options.model.display()
                ))
            })
        };
        let mut cpu_fallback = None;
        let model = match load(gpu_layers) {
            Ok(model) => model,
            // A GPU that fails to take the model (driver error, too little memory) should not
            // leave the user without one: the CPU always can, if more slowly.
            Err(gpu_error) if gpu_layers > 0 && backend.supports_gpu_offload() => {
                let reason = gpu_error.to_string();
                let model = load(0).map_err(|_| gpu_error)?;
                cpu_fallback = Some(format!("the GPU could not take the model, so it runs on the CPU ({reason})"));
                gpu_layers = 0;
                model
            }
            Err(error) => return Err(error),
        };

        let model_layers = model.n_layer();
        let template = choose_template(&model, &gguf)?;
        let tool_tokens = ToolTokens::of(&model);
        let projector = match (&options.mmproj, &projector_gguf) {
            (Some(mmproj), Some(gguf)) => {
                let context = load_projector(&model, mmproj, options.threads, gpu_layers > 0, gguf, image_tokens)?;
                Some(Projector::new(context, gguf, image_tokens))
            }
            _ => None,
        };
        Ok(LoadedModel {
            projector,
            model,
            gguf,
            template,
            gpu_layers: if backend.supports_gpu_offload() { gpu_layers.min(model_layers + 1) } else { 0 },
            load_ms: started.elapsed().as_secs_f64() * 1000.0,
            cpu_fallback,
            tool_tokens,
        })
    }

    /// What the GGUF header says about the model.
    pub fn gguf(&self) -> &GgufInfo {
        &self.gguf
    }

    /// llama.cpp's model itself, for callers that go below the engine (benchmarks, tests).
    pub fn llama(&self) -> &LlamaModel {
        &self.model
    }

    /// The template that renders this model's prompts.
    pub fn template(&self) -> &ChatTemplate {
        &self.template
    }
}

fn choose_template(model: &LlamaModel, gguf: &GgufInfo) -> Result<ChatTemplate, EngineError> {
    let vocab = model.vocab();
    let piece = |token| String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned();
    let (bos, eos) = (piece(vocab.bos()), piece(vocab.eos()));
    Ok(ChatTemplate::for_model(gguf.chat_template.as_deref(), &bos, &eos)?)
}

fn load_projector(
    model: &LlamaModel,
    mmproj: &Path,
    threads: Option<u32>,
    use_gpu: bool,
    gguf: &GgufInfo,
    image_tokens: u32,
) -> Result<MtmdContext, EngineError> {
    // Gemma 4 spends at most its budget on an image; other projectors choose their own count.
    let budget = match gguf.projector_type.as_deref() {
        Some(kind) if kind.starts_with("gemma4") => image_tokens as i32,
        _ => -1,
    };
    let path = mmproj
        .to_str()
        .ok_or_else(|| EngineError::InvalidModel(format!("projector path is not valid UTF-8: {}", mmproj.display())))?;
    let params = MtmdContextParams {
        use_gpu,
        print_timings: false,
        n_threads: threads.map_or_else(crate::session::default_threads, |t| t as i32),
        image_max_tokens: budget,
        ..MtmdContextParams::default()
    };
    MtmdContext::init_from_file(path, model, &params).map_err(|error| {
        EngineError::LoadFailed(format!(
            "llama.cpp could not load the projector {}: {error}; is it the mmproj made for this model?",
            mmproj.display()
        ))
    })
}
