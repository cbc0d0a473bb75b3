//! The recommendation over a table of machines.

use gemma_desk_models::fit::{ModelShape, cpu_decode_bytes_per_second, usable_ram};
use gemma_desk_models::{Catalog, DEFAULT_CONTEXT, Gpu, Hardware, Placement, Use, Verdict, fit, recommend};

const GB: u64 = 1_000_000_000;

/// A machine with 8 cores that read memory at 40 GB/s (a dual-channel DDR5 desktop), no reply
/// seen yet.
fn machine(ram_gb: u64, gpu: Option<(&str, u64, bool)>) -> Hardware {
    Hardware {
        ram_total: ram_gb * GB,
        ram_available: ram_gb * GB / 2,
        cpu: "test CPU".into(),
        cpu_threads: 8,
        cpu_cores: 8,
        memory_read_bytes_per_second: 40e9,
        decode_bytes_per_second_seen: None,
        gpus: gpu
            .into_iter()
            .map(|(name, vram_gb, integrated)| Gpu {
                name: "GPU0".into(),
                description: name.into(),
                backend: "Vulkan".into(),
                integrated,
                memory_total: vram_gb * GB,
                memory_free: vram_gb * GB,
            })
            .collect(),
        gpu_problem: None,
    }
}

#[test]
fn each_machine_gets_the_most_capable_model_that_fits_and_runs_well() {
    let catalog = Catalog::built_in();
    #[rustfmt::skip]
    let table: &[(&str, Hardware, Use, Option<&str>)] = &[
        ("tiny laptop, 2 GB",            machine(2, None), Use::Text, None),
        ("old laptop, 4 GB",             machine(4, None), Use::Text, Some("gemma-3-1b-it")),
        ("laptop, 8 GB, no GPU",         machine(8, None), Use::Text, Some("gemma-3n-e4b-it")),
        ("laptop, 16 GB, no GPU",        machine(16, None), Use::Text, Some("gemma-4-e4b-it")),
        ("workstation, 64 GB, no GPU",   machine(64, None), Use::Text, Some("gemma-4-26b-a4b-it")),
        ("laptop, 8 GB, images",         machine(8, None), Use::Vision, Some("gemma-3-4b-it")),
        ("laptop, 16 GB, voice",         machine(16, None), Use::Voice, Some("gemma-4-e4b-it")),
        ("laptop, 4 GB, voice",          machine(4, None), Use::Voice, None),
        // The 12B would only partly fit (its 8192-token cache alone is 2.8 GB): slow.
        ("desktop, 16 GB + 8 GB GPU",    machine(16, Some(("RTX 3070", 8, false))), Use::Text, Some("gemma-4-e4b-it")),
        ("desktop, 32 GB + 12 GB GPU",   machine(32, Some(("RTX 3060", 12, false))), Use::Text, Some("gemma-4-12b-it")),
        // The 31B's weights fit, but not with its 7.4 GB cache (the engine keeps full-size
        // sliding-window caches); the 26B mixture of experts fits whole.
        ("desktop, 32 GB + 24 GB GPU",   machine(32, Some(("RTX 4090", 24, false))), Use::Text, Some("gemma-4-26b-a4b-it")),
        ("desktop, 32 GB + 24 GB, eyes", machine(32, Some(("RTX 4090", 24, false))), Use::Vision, Some("gemma-4-26b-a4b-it")),
        ("server, 64 GB + 48 GB GPU",    machine(64, Some(("RTX A6000", 48, false))), Use::Text, Some("gemma-4-31b-it")),
        // The 12B with the projector it is downloaded with no longer fits in 11 GB.
        ("Mac, 16 GB unified",           machine(16, Some(("Apple M2", 11, true))), Use::Text, Some("gemma-4-e4b-it")),
        ("Mac, 8 GB unified",            machine(8, Some(("Apple M1", 5, true))), Use::Vision, Some("gemma-3-4b-it")),
        // The machine these tests run on: 2 cores reading 9.6 GB/s, where the test model's replies
        // ran at 0.72 of the read speed (BENCHMARKS.md).
        ("this machine, 24 GB, 2 cores", slow_cpu(24, 2, 9.6e9), Use::Text, Some("gemma-3-1b-it")),
    ];
    for (what, hardware, usage, expected) in table {
        let recommendation = recommend(&catalog, hardware, *usage, DEFAULT_CONTEXT);
        assert_eq!(recommendation.choice.as_deref(), *expected, "{what}: {}", recommendation.summary);
        assert!(!recommendation.summary.is_empty());
        if expected.is_none() {
            assert!(recommendation.summary.starts_with("No model"), "{what}: {}", recommendation.summary);
        }
    }
}

/// A machine without a GPU whose `cores` read memory at `read` bytes per second.
fn slow_cpu(ram_gb: u64, cores: u32, read: f64) -> Hardware {
    Hardware { cpu_threads: cores, cpu_cores: cores, memory_read_bytes_per_second: read, ..machine(ram_gb, None) }
}

#[test]
fn the_cpu_speed_is_what_replies_reached_here_and_never_more_than_the_memory_gives() {
    let unseen = slow_cpu(24, 2, 10e9);
    assert_eq!(cpu_decode_bytes_per_second(&unseen), 8e9, "before any reply: a share of the read speed");
    let seen = Hardware { decode_bytes_per_second_seen: Some(6e9), ..unseen.clone() };
    assert_eq!(cpu_decode_bytes_per_second(&seen), 6e9, "what replies reached");
    let impossible = Hardware { decode_bytes_per_second_seen: Some(25e9), ..unseen };
    assert_eq!(cpu_decode_bytes_per_second(&impossible), 10e9, "capped by the memory");

    let catalog = Catalog::built_in();
    let model = catalog.get("gemma-3-4b-it").unwrap();
    let judged = |hardware: &Hardware| fit(model, hardware, DEFAULT_CONTEXT).cpu_tokens_per_second.unwrap();
    let (slow, fast) = (judged(&seen), judged(&slow_cpu(24, 8, 40e9)));
    assert!((fast / slow - 32e9 / 6e9).abs() < 0.1, "the speed follows the bytes per second: {slow} and {fast}");
}

#[test]
fn a_models_card_and_its_recommendation_give_one_memory_figure() {
    let catalog = Catalog::built_in();
    let hardware = machine(64, None);
    let recommendation = recommend(&catalog, &hardware, Use::Text, DEFAULT_CONTEXT);
    let chosen = recommendation.choice.clone().unwrap();
    let card = fit(catalog.get(&chosen).unwrap(), &hardware, DEFAULT_CONTEXT);
    let in_list = recommendation.candidates.iter().find(|fit| fit.model == chosen).unwrap();
    assert_eq!(card.estimate, in_list.estimate);
    assert!(card.estimate.projector > 0, "the projector, downloaded with the model, is counted");
    let shown = format!("{:.1} GB", card.estimate.total as f64 / f64::from(1u32 << 30));
    assert!(recommendation.summary.contains(&shown), "the summary says {shown}: {}", recommendation.summary);
}

#[test]
fn slow_and_impossible_choices_are_said_plainly() {
    let catalog = Catalog::built_in();
    let gpu_4gb = machine(32, Some(("GTX 1650", 4, false)));
    let recommendation = recommend(&catalog, &gpu_4gb, Use::Text, DEFAULT_CONTEXT);
    let judged = |id: &str| recommendation.candidates.iter().find(|fit| fit.model == id).unwrap().clone();

    let big = judged("gemma-3-12b-it");
    assert_eq!(big.verdict, Verdict::Slow);
    assert!(
        matches!(big.placement, Placement::Partial { gpu_layers, of: 49, .. } if gpu_layers > 0 && gpu_layers < 49)
    );
    assert!(big.explanation.contains("will be slow") && big.explanation.contains("GTX 1650"), "{}", big.explanation);

    let cpu_only = recommend(&catalog, &machine(32, None), Use::Text, DEFAULT_CONTEXT);
    let dense = cpu_only.candidates.iter().find(|fit| fit.model == "gemma-3-27b-it").unwrap();
    assert_eq!((dense.verdict, &dense.placement), (Verdict::Slow, &Placement::Cpu));
    assert!(dense.explanation.contains("slow on the CPU"), "{}", dense.explanation);

    let small = recommend(&catalog, &machine(4, None), Use::Text, DEFAULT_CONTEXT);
    let huge = small.candidates.iter().find(|fit| fit.model == "gemma-4-31b-it").unwrap();
    assert_eq!((huge.verdict, &huge.placement), (Verdict::TooBig, &Placement::None));
    assert!(huge.explanation.starts_with("does not fit"), "{}", huge.explanation);

    let floor = small.candidates.iter().find(|fit| fit.model == "gemma-4-e4b-it").unwrap();
    assert!(floor.explanation.contains("at least 12 GB"), "{}", floor.explanation);
}

#[test]
fn a_broken_gpu_is_named_and_the_cpu_takes_over() {
    let catalog = Catalog::built_in();
    let mut hardware = machine(16, None);
    hardware.gpu_problem = Some("the Vulkan driver crashed".into());
    let recommendation = recommend(&catalog, &hardware, Use::Text, DEFAULT_CONTEXT);
    assert_eq!(recommendation.choice.as_deref(), Some("gemma-4-e4b-it"));
    assert!(recommendation.summary.contains("the Vulkan driver crashed"), "{}", recommendation.summary);
}

#[test]
fn the_estimate_adds_weights_projector_context_and_overhead() {
    let catalog = Catalog::built_in();
    let model = catalog.get("gemma-3-4b-it").unwrap();
    let with_eyes = ModelShape::of(model, true).estimate(8192);
    let text_only = ModelShape::of(model, false).estimate(8192);
    assert_eq!(with_eyes.weights, 2_489_757_856);
    assert_eq!(with_eyes.projector, 851_251_104);
    assert_eq!(text_only.projector, 0);
    // 34 layers x 4 KV heads x 256 wide x (K and V) x 2 bytes x 8192 tokens.
    assert_eq!(with_eyes.kv_cache, 34 * 4 * 256 * 4 * 8192);
    assert_eq!(with_eyes.total, with_eyes.weights + with_eyes.projector + with_eyes.kv_cache + with_eyes.overhead);
    assert!(ModelShape::of(model, false).estimate(32768).total > text_only.total);
}

#[test]
fn gpu_layers_fill_the_free_memory_and_no_more() {
    let catalog = Catalog::built_in();
    let shape = ModelShape::of(catalog.get("gemma-3-12b-it").unwrap(), false);
    assert_eq!(shape.gpu_layers_for(0, 8192), 0);
    assert_eq!(shape.gpu_layers_for(1 << 30, 8192), 0, "the margin and buffers come first");
    assert_eq!(shape.gpu_layers_for(48 * GB, 8192), 49, "all layers and the output layer");
    let half = shape.gpu_layers_for(6 * GB, 8192);
    assert!((20..40).contains(&half), "{half}");
    assert!(shape.gpu_layers_for(8 * GB, 8192) > half);
    assert!(shape.gpu_layers_for(6 * GB, 65536) < half, "a longer context leaves room for fewer layers");
    assert!(usable_ram(16 * GB) < 16 * GB);
}

#[test]
fn a_gguf_header_gives_the_shape_of_an_imported_model() {
    let info = gemma_desk_engine::inspect(&gemma_desk_testing::test_model()).unwrap();
    let shape = ModelShape::of_gguf(&info, 0);
    assert_eq!(shape.layers, 18);
    assert_eq!(shape.weights, 253_113_024);
    // Gemma 3 270M: 1 KV head, keys and values 256 wide, 18 layers, 2 bytes each.
    assert_eq!(shape.kv_bytes_per_token, 18 * (256 + 256) * 2);
}
