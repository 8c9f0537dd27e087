//! Weights that travel: `pgl export` to safetensors with the PyTorch reference's names, and
//! `pgl train --init-from model.safetensors`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{ok, pgl, text};

use pgl_burn::burn::module::{Module, ModuleMapper, Param};
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::Distribution;
use pgl_burn::checkpoint::{CheckpointStore, load_model, read_manifest};
use pgl_burn::export::{
    ExportError, Names, Naming, Reference, export_safetensors, import_safetensors, read_index,
    reference,
};
use pgl_burn::inspect::param_values;
use pgl_models::{AuxHead, DecoupledNet, ModelCatalog, ModelInput, ModelOptions, SplitKind};

/// The zoo's PyTorch reference models.
fn refs() -> Vec<&'static Reference> {
    ModelCatalog::with_builtins().references()
}

/// The zoo's PyTorch reference model of `model`.
fn reference_of(model: &str) -> &'static Reference {
    refs().into_iter().find(|r| r.model == model).unwrap()
}

fn failed(output: Output) -> String {
    assert!(
        !output.status.success(),
        "pgl should have failed: {}",
        text(&output.stdout)
    );
    text(&output.stderr)
}

/// A committed list of the PyTorch reference's state_dict (`bench/gpu/torch_names.py`), sorted.
fn torch_list(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bench/gpu/torch_names")
        .join(format!("{name}.txt"));
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// The tensors of a safetensors file in the lists' format, sorted.
fn file_list(path: &Path) -> Vec<String> {
    read_index(path)
        .unwrap()
        .iter()
        .map(|e| format!("{}\t{:?}\t{}", e.name, e.shape, e.dtype))
        .collect()
}

fn build(model: &str, input: ModelInput, options: ModelOptions, seed: u64) -> DecoupledNet {
    ModelCatalog::with_builtins()
        .build(model, input, &options, seed, &Device::flex())
        .unwrap()
}

/// [`resnet32_k16`] with option-B shortcuts (InfoPro's).
fn resnet32_k16_option_b() -> ModelOptions {
    resnet32_k16().with_shortcut(pgl_models::options::Shortcut::OptionB)
}

fn resnet32_k16() -> ModelOptions {
    ModelOptions {
        modules: 16,
        split: SplitKind::InfoPro,
        aux_head: None,
        ..ModelOptions::even(1)
    }
}

/// Replaces every float parameter and buffer (BatchNorm running statistics included) by
/// random values, so that a round trip cannot pass by reading back initial values. Tensors of
/// rank 1 (biases, BatchNorm's γ, β and running statistics) get positive ones: an import
/// refuses a negative running variance.
struct Scramble;

impl ModuleMapper for Scramble {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| {
            let device = t.device();
            let t = Tensor::random(t.shape(), Distribution::Normal(0.0, 1.0), &device);
            if D == 1 { t.abs() } else { t }
        })
    }
}

/// Every parameter and buffer as bit patterns, by path.
fn bits<M: Module>(model: &M) -> Vec<(String, Vec<u32>)> {
    param_values(model)
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn pytorch_names_and_shapes_match_the_reference_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let pool2 = ModelOptions {
        aux_head: Some(AuxHead::Pool2OneFc),
        ..ModelOptions::even(4)
    };
    // `(list, network, model)`: the lists are named after the network's heads.
    let cases = [
        (
            "cnn_k4_1c2f",
            build("cnn", ModelInput::MNIST, ModelOptions::even(4), 1),
            "cnn",
        ),
        (
            "cnn_k4_pool2_1f",
            build("cnn", ModelInput::MNIST, pool2, 1),
            "cnn",
        ),
        (
            "resnet32_k16_infopro_1c2f",
            build("resnet32", ModelInput::CIFAR10, resnet32_k16(), 1),
            "resnet32",
        ),
        (
            "resnet32_k16_infopro_1c2f_option_b",
            build("resnet32", ModelInput::CIFAR10, resnet32_k16_option_b(), 1),
            "resnet32",
        ),
    ];
    for (list, model, name) in cases {
        let head = model.aux_head.unwrap().name();
        let naming = Naming::Pytorch(reference(&refs(), name, head, model.stages.len()).unwrap());
        let out = tmp.path().join(format!("{list}.safetensors"));
        let exported = export_safetensors(&model, &out, naming, &[]).unwrap();
        let expected = torch_list(list);
        assert_eq!(file_list(&out), expected, "{list}");
        assert_eq!(exported.tensors, expected.len());
        assert_eq!(exported.names, Names::Pytorch);
    }
}

#[test]
fn export_then_import_is_bit_identical_for_every_naming() {
    let tmp = tempfile::tempdir().unwrap();
    let cnn = ModelOptions::even(4);
    let with_head = |head| ModelOptions {
        aux_head: Some(head),
        ..cnn.clone()
    };
    let cases: Vec<(&str, &str, ModelInput, ModelOptions, Naming)> = vec![
        ("cnn", "1c2f", ModelInput::DIGITS, cnn.clone(), Naming::Pgl),
        (
            "cnn",
            "1c2f",
            ModelInput::DIGITS,
            cnn.clone(),
            Naming::Pytorch(reference_of("cnn")),
        ),
        (
            "cnn",
            "pool2-1f",
            ModelInput::DIGITS,
            with_head(AuxHead::Pool2OneFc),
            Naming::Pytorch(reference_of("cnn")),
        ),
        (
            "resnet32",
            "1c2f",
            ModelInput::CIFAR10,
            resnet32_k16(),
            Naming::Pytorch(reference_of("resnet32")),
        ),
        (
            "resnet32",
            "1c2f",
            ModelInput::CIFAR10,
            resnet32_k16_option_b(),
            Naming::Pytorch(reference_of("resnet32")),
        ),
        (
            "resnet32",
            "1c2f",
            ModelInput::CIFAR10,
            resnet32_k16_option_b(),
            Naming::Pgl,
        ),
        (
            "cnn",
            "0c1f",
            ModelInput::MNIST,
            with_head(AuxHead::ZeroConvOneFc),
            Naming::Pgl,
        ),
        (
            "mlp",
            "0c1f",
            ModelInput::DIGITS,
            ModelOptions::even(2),
            Naming::Pgl,
        ),
    ];
    for (i, (name, head, input, options, naming)) in cases.into_iter().enumerate() {
        if let Naming::Pytorch(r) = naming {
            assert_eq!(reference(&refs(), name, head, options.modules).unwrap(), r);
        }
        let source = build(name, input, options.clone(), 3).map(&mut Scramble);
        let target = build(name, input, options, 4);
        let want = bits(&source);
        assert_ne!(
            bits(&target),
            want,
            "{name}: the target must start elsewhere"
        );
        let out = tmp.path().join(format!("{i}-{name}.safetensors"));
        export_safetensors(&source, &out, naming, &[]).unwrap();
        let (loaded, imported) = import_safetensors(target, &out, &refs()).unwrap();
        assert_eq!(imported.names, naming.names(), "{name}");
        assert_eq!(imported.tensors, want.len(), "{name}");
        assert_eq!(bits(&loaded), want, "{name} {:?}", naming.names());
    }
}

#[test]
fn pytorch_names_are_refused_for_what_the_reference_does_not_define() {
    let message = |e: ExportError| e.to_string();
    let vgg = message(reference(&refs(), "vgg11_bn", "1c2f", 4).unwrap_err());
    assert!(
        vgg.contains("`vgg11_bn`") && vgg.contains("`names` = `pgl`"),
        "{vgg}"
    );
    let head = message(reference(&refs(), "cnn", "0c1f", 4).unwrap_err());
    assert!(
        head.contains("`0c1f`") && head.contains("`1c2f` or `pool2-1f`"),
        "{head}"
    );
    let k = message(reference(&refs(), "resnet32", "1c2f", 8).unwrap_err());
    assert!(k.contains("K = 8") && k.contains("16"), "{k}");
    // K = 1 has no auxiliary head, so any head name is fine.
    assert!(reference(&refs(), "cnn", "0c1f", 1).is_ok());
    assert!(Names::parse("torch").is_err());
}

#[test]
fn importing_a_file_of_another_model_names_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let naming = Naming::Pytorch(reference(&refs(), "cnn", "1c2f", 4).unwrap());
    let ten = build("cnn", ModelInput::DIGITS, ModelOptions::even(4), 1);
    let out = tmp.path().join("cnn10.safetensors");
    export_safetensors(&ten, &out, naming, &[]).unwrap();
    // Same layers, 3 classes: every head's last linear layer has another shape.
    let three = build(
        "cnn",
        ModelInput::DIGITS.with_classes(3),
        ModelOptions::even(4),
        1,
    );
    let error = import_safetensors(three, &out, &refs())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("layer `stages.3.head.2.Linear.weight` (`heads.3.2.weight` in the file): the file has shape [10, 256], this model needs [3, 256]"),
        "{error}"
    );
    // Another model altogether.
    let resnet = build("resnet32", ModelInput::CIFAR10, resnet32_k16(), 1);
    let error = import_safetensors(resnet, &out, &refs())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("does not hold this model's weights"),
        "{error}"
    );
    assert!(error.contains("`heads.3.2.weight`"), "{error}");
    // Never overwritten.
    let again = export_safetensors(&ten, &out, naming, &[]).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
}

/// A one-epoch run of the shared small set-up ([`common::train`]) into `out`, a folder of
/// `cwd` (the tests name runs relative to `cwd`).
fn train(cwd: &Path, out: &Path, extra: &[&str]) -> Output {
    assert_eq!(out.parent(), Some(cwd));
    common::train(&[&["--epochs", "1"][..], extra].concat(), out)
}

/// The final weights of a run, as bit patterns.
fn final_weights(run: &Path) -> Vec<(String, Vec<u32>)> {
    let dir = CheckpointStore::new(run, 1).latest().unwrap().unwrap();
    let config = read_manifest(&dir).unwrap().config;
    let options = ModelOptions {
        modules: config.model.modules,
        split: SplitKind::parse(&config.model.split).unwrap(),
        aux_head: None,
        ..ModelOptions::even(1)
    };
    let skeleton = build(&config.model.name, ModelInput::DIGITS, options, 0);
    bits(&load_model(&dir, skeleton).unwrap())
}

/// Every epoch's metrics without measured times and memory.
fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let fields = v.as_object_mut().unwrap();
            fields.retain(|k, _| {
                !k.ends_with("seconds") && !k.starts_with("peak_memory") && k != "images_per_second"
            });
            v
        })
        .collect()
}

#[test]
fn pgl_export_writes_a_run_and_train_init_from_starts_from_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let run = cwd.join("source");
    ok(train(cwd, &run, &[]));

    // Default output: beside the run's checkpoints, named after the checkpoint.
    let stdout = text(&ok(pgl(&["export", "source", "--format", "safetensors"], cwd)).stdout);
    let file: PathBuf = run.join("epoch-0001.safetensors");
    assert!(file.is_file(), "{stdout}");
    assert!(stdout.contains("pytorch names"), "{stdout}");
    assert_eq!(file_list(&file), torch_list("cnn_k4_1c2f"));
    #[cfg(unix)]
    {
        // The mode of every other output (0644 under the usual umask), not a temporary file's.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), mode(&run.join("summary.json")));
    }
    let again = failed(pgl(
        &["export", "source", "--out", file.to_str().unwrap()],
        cwd,
    ));
    assert!(again.contains("already exists"), "{again}");

    // A run from the file starts from the same weights as a run from the checkpoint.
    let from_file = cwd.join("from-file");
    let from_checkpoint = cwd.join("from-checkpoint");
    let scratch = cwd.join("scratch");
    let flags = ["--seed", "7", "--lr", "0.01"];
    let init_file = [&flags[..], &["--init-from", file.to_str().unwrap()]].concat();
    let init_checkpoint = [&flags[..], &["--init-from", "source"]].concat();
    ok(train(cwd, &from_file, &init_file));
    ok(train(cwd, &from_checkpoint, &init_checkpoint));
    ok(train(cwd, &scratch, &flags));
    assert_eq!(metrics(&from_file), metrics(&from_checkpoint));
    assert_eq!(final_weights(&from_file), final_weights(&from_checkpoint));
    assert_ne!(metrics(&from_file), metrics(&scratch));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(from_file.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["init_from"], file.to_str().unwrap());

    // A weights file has no optimizer state to keep.
    let keep = failed(train(
        cwd,
        &cwd.join("keep"),
        &["--init-from", file.to_str().unwrap(), "--keep-optimizer"],
    ));
    assert!(
        keep.contains("--keep-optimizer") && keep.contains("safetensors"),
        "{keep}"
    );
    assert!(!cwd.join("keep").exists());

    // A model the reference does not define: pgl's names only.
    let mlp = cwd.join("mlp");
    ok(train(cwd, &mlp, &["--model", "mlp", "--modules", "2"]));
    let refused = failed(pgl(&["export", "mlp", "--names", "pytorch"], cwd));
    assert!(
        refused.contains("`mlp`") && refused.contains("--names `pgl`"),
        "{refused}"
    );
    let out = cwd.join("mlp.safetensors");
    ok(pgl(
        &[
            "export",
            "mlp",
            "--names",
            "pgl",
            "--out",
            out.to_str().unwrap(),
        ],
        cwd,
    ));
    let names = file_list(&out);
    assert!(
        names.iter().any(|n| n.starts_with("stages.0.body.")),
        "{names:?}"
    );
    ok(train(
        cwd,
        &cwd.join("mlp-again"),
        &[
            "--model",
            "mlp",
            "--modules",
            "2",
            "--init-from",
            out.to_str().unwrap(),
        ],
    ));
}
