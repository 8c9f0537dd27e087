//! `cargo xtask fuzz`: the fuzz targets of the `fuzz/` crate, the valid inputs each target's
//! corpus starts from, and the command that runs them through `cargo fuzz`.

use std::io::Write;

use crate::cargo_in;
use crate::tidy::workspace_root;

/// Fuzz targets and the largest input each explores.
const FUZZ_TARGETS: [(&str, usize); 9] = [
    ("idx", 4096),
    ("cifar", 16_384),
    ("stl10", 60_000),
    ("svhn_mat", 8192),
    ("schedule_spec", 512),
    ("lr_schedule_spec", 512),
    ("objective_spec", 512),
    ("safetensors_import", 4096),
    ("config_toml", 4096),
];

/// `bytes` gzip-compressed (the `idx` seeds' compressed variants).
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Valid inputs to start each target's corpus from.
fn seeds(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    match target {
        "idx" => idx_seeds(),
        "cifar" => cifar_seeds(),
        "stl10" => stl10_seeds(),
        "svhn_mat" => svhn_mat_seeds(),
        "lr_schedule_spec" => lr_schedule_seeds(),
        "objective_spec" => objective_seeds(),
        "safetensors_import" => safetensors_seeds(),
        "config_toml" => config_toml_seeds(),
        _ => schedule_seeds(),
    }
}

/// Big-endian bytes of `words`, as IDX headers are written.
fn big_endian(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

/// Seeds of `idx`: an image and a label file, raw and gzipped, and a digits CSV line.
fn idx_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut images = big_endian(&[0x0803, 2, 3, 3]);
    images.extend(0..18u8);
    let mut labels = big_endian(&[0x0801, 3]);
    labels.extend([1, 9, 0]);
    let csv = format!("{},3\n", vec!["16"; 64].join(",")).into_bytes();
    vec![
        ("images", images.clone()),
        ("labels", labels.clone()),
        ("images-gz", gzip(&images)),
        ("labels-gz", gzip(&labels)),
        ("digits-csv", csv),
    ]
}

/// Seeds of `cifar`: one and two CIFAR-10 records, one CIFAR-100 record.
fn cifar_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut one = vec![3u8];
    one.extend((0..3072).map(|i| (i % 251) as u8));
    let mut hundred = vec![5u8, 42];
    hundred.extend((0..3072).map(|i| (i % 13) as u8));
    vec![
        ("cifar10-1", one.clone()),
        ("cifar10-2", [one.clone(), one].concat()),
        ("cifar100-1", hundred),
    ]
}

/// Seeds of `stl10`: one image and a label file.
fn stl10_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let image: Vec<u8> = (0..3 * 96 * 96).map(|i| (i % 256) as u8).collect();
    vec![("image", image), ("labels", (1..=10).collect())]
}

/// Seeds of `svhn_mat`: a round-trip seed (leading 0: one label, one image) and a MAT-file
/// header with one small element after it (a name `X`), for the parser to grow from.
fn svhn_mat_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut round_trip = vec![0u8, 7];
    round_trip.extend((0..3072).map(|i| (i % 253) as u8));
    let mut header = b"MATLAB 5.0 MAT-file".to_vec();
    header.resize(124, b' ');
    header.extend([0x00, 0x01, b'I', b'M']);
    header.extend([1, 0, 1, 0, b'X', 0, 0, 0]);
    vec![("round-trip", round_trip), ("header", header)]
}

/// Seeds of `lr_schedule_spec`: two leading bytes choose the run's shape (iterations per
/// epoch, epochs), then a spec.
fn lr_schedule_seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        "cosine",
        "cosine:min=0.01,unit=epochs",
        "multistep:at=(1,3),gamma=0.5",
        "linear-warmup:iters=5,then=cosine",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| {
        (
            ["a", "b", "c", "d"][i],
            [&[3u8, 2][..], s.as_bytes()].concat(),
        )
    })
    .collect()
}

/// Seeds of `objective_spec`: one spec of each built-in objective.
fn objective_seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        "ce",
        "infopro:ixx_1=5,ixy_1=1,ixx_2=0,ixy_2=2,class=supcon,temperature=0.1",
        "supcon:temperature=0.07,dim=128",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| (["a", "b", "c"][i], s.as_bytes().to_vec()))
    .collect()
}

/// Seeds of `config_toml`: a leading byte chooses the format (0 JSON, anything else TOML).
fn config_toml_seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "toml",
            b"\x01model = \"mlp\"\nmodules = 2\nlr_schedule = \"cosine:min=0.1\"\nlocal_objective = \"supcon\"\naux_weight = 0.5\n".to_vec(),
        ),
        (
            "json",
            b"\x00{\"schedule\": \"any(periodic:every=4,plateau:patience=3)\", \"epochs\": 3, \"train_limit\": 100}".to_vec(),
        ),
    ]
}

/// Seeds of `schedule_spec`: guidance schedule specs, combinators included.
fn schedule_seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        "local-only",
        "periodic:every=10,len=2,unit=epochs",
        "warmup:epochs=1,then=periodic:every=3",
        "any(plateau:patience=3,len=2,min_delta=0.1,all(end-to-end,periodic:every=2))",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| (["a", "b", "c", "d"][i], s.as_bytes().to_vec()))
    .collect()
}

/// A safetensors file of `tensors` (name, shape, f32 values) in the layout of the format:
/// an 8-byte little-endian header length, the JSON header, the data.
fn safetensors(tensors: &[(&str, &[usize], Vec<f32>)]) -> Vec<u8> {
    let mut header = Vec::new();
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let start = data.len();
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        header.push(format!(
            "\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            shape.join(","),
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", header.join(",")).into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header);
    file.extend(data);
    file
}

/// Seeds of `safetensors_import`: the fuzz target's Linear(2, 3) + BatchNorm(3) network with
/// sound weights, with a NaN weight, and with a negative running variance.
fn safetensors_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let network = |weight: f32, variance: f32| {
        safetensors(&[
            (
                "linear.weight",
                &[2, 3],
                vec![0.5, -1.0, weight, 2.0, 0.0, 1.5],
            ),
            ("linear.bias", &[3], vec![0.1, 0.2, 0.3]),
            ("norm.gamma", &[3], vec![1.0; 3]),
            ("norm.beta", &[3], vec![0.0; 3]),
            ("norm.running_mean", &[3], vec![0.0; 3]),
            ("norm.running_var", &[3], vec![1.0, variance, 1.0]),
        ])
    };
    vec![
        ("sound", network(0.25, 1.0)),
        ("nan", network(f32::NAN, 1.0)),
        ("negative-variance", network(0.25, -1.0)),
    ]
}

/// `cargo xtask fuzz [SECONDS] [TARGET..]`: seeds each chosen target's corpus and fuzzes it
/// for SECONDS (default 600).
pub fn run(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args.first() {
        Some(s) if s.parse::<u64>().is_ok() => s.parse().expect("checked"),
        _ => 600,
    };
    let chosen: Vec<&str> = args
        .iter()
        .filter(|a| a.parse::<u64>().is_err())
        .map(String::as_str)
        .collect();
    for name in &chosen {
        if !FUZZ_TARGETS.iter().any(|(t, _)| t == name) {
            let targets: Vec<&str> = FUZZ_TARGETS.iter().map(|(t, _)| *t).collect();
            return Err(format!(
                "unknown fuzz target `{name}`; targets: {}",
                targets.join(", ")
            ));
        }
    }
    let fuzz_dir = workspace_root().join("fuzz");
    for (target, max_len) in FUZZ_TARGETS {
        if !chosen.is_empty() && !chosen.contains(&target) {
            continue;
        }
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        for (name, bytes) in seeds(target) {
            let path = corpus.join(format!("seed-{name}"));
            std::fs::write(&path, bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let corpus_arg = format!("corpus/{target}");
        let time = format!("-max_total_time={seconds}");
        let len = format!("-max_len={max_len}");
        cargo_in(
            Some(&fuzz_dir),
            &[],
            &[
                "fuzz",
                "run",
                "--sanitizer",
                "none",
                target,
                &corpus_arg,
                "--",
                &time,
                &len,
                "-rss_limit_mb=2048",
                "-timeout=10",
                "-print_final_stats=1",
            ],
        )?;
    }
    Ok(())
}
