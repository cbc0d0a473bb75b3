//! The architectures the bundled llama.cpp can load: a file naming any other is refused before
//! llama.cpp sees it. Update the table with llama-cpp-sys-2.

/// Architectures (`general.architecture`) of the bundled llama.cpp
/// (`LLM_ARCH_NAMES` in `src/llama-arch.cpp`); `clip` is a multimodal
/// projector (mmproj) file. Mistral text models use `llama`.
#[rustfmt::skip]
pub(super) const KNOWN_ARCHITECTURES: &[&str] = &[
    "clip", "gemma", "gemma2", "gemma3", "gemma3n", "gemma4", "gemma4-assistant", "gemma-embedding",
    "llama", "llama4", "llama-embed", "mistral3", "mistral4", "qwen", "qwen2", "qwen2moe",
    "qwen2vl", "qwen3", "qwen3moe", "qwen3next", "qwen3vl", "qwen3vlmoe", "qwen35", "qwen35moe",
    "qwen4exp", "phi2", "phi3", "phimoe", "deci", "falcon", "falcon-h1", "grok", "gpt2", "gptj",
    "gptneox", "gpt-oss", "mpt", "baichuan", "starcoder", "starcoder2", "refact", "bert",
    "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2", "jina-bert-v3",
    "eurobert", "bloom", "stablelm", "clef", "plamo", "plamo2", "plamo3", "codeshell", "orion",
    "internlm2", "minicpm", "minicpm3", "mamba", "mamba2", "maple", "jamba", "xverse", "command-r",
    "cohere2", "cohere2moe", "dbrx", "olmo", "olmo2", "olmoe", "muse-glimmer", "openelm", "arctic",
    "deepseek", "deepseek2", "deepseek2-ocr", "deepseek32", "deepseek4", "chatglm", "glm4",
    "glm4moe", "glm-dsa", "glm5-next", "bitnet", "t5", "t5encoder", "jais", "jais2", "nemotron",
    "nemotron_h", "nemotron_h_moe", "exaone", "exaone4", "exaone-moe", "rwkv6", "rwkv6qwen2",
    "rwkv7", "arwkv7", "granite", "granitemoe", "granitehybrid", "graniteswitch", "granite_swa",
    "chameleon", "wavtokenizer-dec", "plm", "bailingmoe", "bailingmoe2", "bailingmoe3", "dots1",
    "dots3note", "arcee", "afmoe", "laguna", "ernie4_5", "ernie4_5-moe", "hunyuan-moe",
    "hunyuan-dense", "hunyuan_vl", "hy_v3", "hy_v4", "smollm3", "lfm2", "lfm2moe", "dream",
    "smallthinker", "llada", "llada-moe", "seed_oss", "grovemoe", "apertus", "minimax-01",
    "minimax-m2", "minimax-m3", "hrm_text", "cogvlm", "rnd1", "pangu-embedded", "eagle3", "dflash",
    "paddleocr", "mimo2", "step35", "spark2_5", "maincoder", "kimi-linear", "kimi-k3", "talkie",
    "mellum", "nanbeige", "qwen3tts", "pockettts",
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn architectures() {
        for a in [
            "gemma",
            "gemma2",
            "gemma3",
            "gemma3n",
            "gemma4",
            "gemma-embedding",
            "llama",
            "qwen2",
            "qwen3",
            "phi3",
            "clip",
        ] {
            assert!(KNOWN_ARCHITECTURES.contains(&a), "{a}");
        }
        let unique: HashSet<_> = KNOWN_ARCHITECTURES.iter().collect();
        assert_eq!(unique.len(), KNOWN_ARCHITECTURES.len());
    }
}
