//! `onespike run`: the whole flow on one dataset into one output folder.
//!
//! The folder is written as a whole: every stage writes into a fresh
//! folder beside it, which replaces the output folder only when every
//! stage has succeeded; a failed run leaves the old folder as it was. A
//! run leaves a manifest (`.onespike-run`) naming every file it wrote, so
//! that running again replaces a folder `run` wrote itself; a non-empty
//! folder it did not write is refused unless `--force`.

use super::outputs::{check_writable_folder, folder_of, Staged};
use anyhow::{bail, Context};
use onespike_compiler::fit::NetShape;
use onespike_compiler::HwParams;
use std::path::{Path, PathBuf};

/// Run the whole flow: train, compile, simulate, report, export Verilog.
///
/// Trains on the dataset (by default the MNIST subset built into the
/// binary), compiles for the hardware configuration, measures accuracy
/// under the integer reference model, and writes every artifact into the
/// output folder: `model.json` (float network), `quantized.json`,
/// `program.json`, the simulation report with its plots and a VCD trace
/// of one inference, and the Verilog of the configuration.
#[derive(clap::Args)]
pub struct Args {
    /// Dataset: `default` (embedded MNIST subset) or a directory of IDX files.
    #[arg(long, default_value = "default")]
    pub data: String,
    #[arg(long, default_value = "default", help = super::config_help())]
    pub config: String,
    /// Output folder (created if missing).
    #[arg(short, long, default_value = "onespike-out")]
    pub out: PathBuf,
    /// Random seed of training.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replace the output folder even if it is not empty and was not
    /// written by `onespike run` (its whole content is deleted).
    #[arg(long)]
    pub force: bool,
}

/// The manifest a run leaves in its folder: the files it wrote.
pub const MANIFEST: &str = ".onespike-run";

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    files: Vec<String>,
}

const MANIFEST_FORMAT: &str = "onespike-run-manifest";

/// Whether `dir` is a folder an earlier run wrote: it has a manifest and
/// nothing at its top level that the manifest does not list.
fn written_by_run(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return false;
    };
    let Ok(m) = serde_json::from_str::<Manifest>(&text) else {
        return false;
    };
    if m.format != MANIFEST_FORMAT {
        return false;
    }
    let top: std::collections::HashSet<&str> =
        m.files.iter().filter_map(|f| f.split('/').next()).collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().all(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name == MANIFEST || top.contains(name.as_ref())
    })
}

/// Checks the output folder before any work (see the module documentation).
fn check_out(out: &Path, force: bool) -> anyhow::Result<()> {
    let parent = folder_of(out);
    match std::fs::symlink_metadata(out) {
        Err(_) => {}
        Ok(m) if m.file_type().is_symlink() => bail!(
            "--out {}: is a symbolic link; `run` replaces its folder as a whole and does not replace links (name the folder it points to)",
            out.display()
        ),
        Ok(m) if !m.is_dir() => bail!(
            "--out {}: exists and is not a folder",
            out.display()
        ),
        Ok(_) => {
            let empty = std::fs::read_dir(out)
                .with_context(|| format!("--out {}: cannot read the folder", out.display()))?
                .next()
                .is_none();
            if !empty && !force && !written_by_run(out) {
                bail!(
                    "--out {}: the folder is not empty and was not written by `onespike run` (it has no {MANIFEST} listing its files); choose another --out, empty it, or pass --force to replace it as a whole",
                    out.display()
                );
            }
        }
    }
    check_writable_folder("--out", out, parent)
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Writes the manifest into the finished staging folder and puts it in
/// place of `out` (the old folder, if any, is removed after the swap).
fn commit_folder(staging: tempfile::TempDir, out: &Path) -> anyhow::Result<Vec<String>> {
    let files = files_under(staging.path());
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        version: 1,
        files: files.clone(),
    };
    std::fs::write(
        staging.path().join(MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )
    .with_context(|| format!("writing {}", out.join(MANIFEST).display()))?;
    let staged = staging.keep();
    let put = |from: &Path, to: &Path| {
        std::fs::rename(from, to)
            .with_context(|| format!("moving the finished run into {}", out.display()))
    };
    if out.exists() {
        let old = tempfile::Builder::new()
            .prefix(".onespike-old-")
            .tempdir_in(folder_of(out))
            .with_context(|| format!("replacing {}", out.display()))?;
        let old_path = old.path().join("previous");
        if let Err(e) = std::fs::rename(out, &old_path) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e).with_context(|| format!("replacing {}", out.display()));
        }
        if let Err(e) = put(&staged, out) {
            let _ = std::fs::rename(&old_path, out);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
        drop(old); // removes the previous run
    } else if let Err(e) = put(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e);
    }
    Ok(files)
}

pub fn main(args: Args) -> anyhow::Result<()> {
    // The folder is replaced as a whole: it cannot hold an input or the
    // folder the command runs in.
    if let Ok(out) = std::fs::canonicalize(&args.out) {
        let inside = |flag: &str, path: &Path| -> anyhow::Result<()> {
            match std::fs::canonicalize(path) {
                Ok(p) if p.starts_with(&out) => bail!(
                    "{flag} {} lies inside --out {}, which `run` replaces as a whole: choose another --out",
                    path.display(),
                    args.out.display()
                ),
                _ => Ok(()),
            }
        };
        inside("--config", Path::new(&args.config))?;
        if args.data != "default" {
            inside("--data", Path::new(&args.data))?;
        }
        inside("the current folder", Path::new("."))?;
    }
    check_out(&args.out, args.force)?;
    let params = HwParams::from_preset_or_file(&args.config)?;
    let data = onespike_dataset::load(&args.data)?;
    if data.train.is_empty() || data.test.is_empty() {
        bail!(
            "--data {}: needs training and test images (it has {} and {})",
            data.name,
            data.train.len(),
            data.test.len()
        );
    }
    // The network the train stage will make must fit the configuration,
    // and the test split must suit it as the training split does.
    let c = super::train::run_config(&data, args.seed);
    super::checks::check_data(&data, "--data", c.sizes[0], "the network `run` trains")?;
    super::checks::check_trainable("--arch", &c.sizes, c.sparsity, c.time_steps)?;
    let shape = NetShape::planned(&c.sizes, 1.0 - c.sparsity, c.time_steps);
    super::checks::check_fits(
        &shape,
        &params,
        &format!("--config {} (checked before training)", args.config),
    )?;
    let staging = tempfile::Builder::new()
        .prefix(".onespike-run-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .tempdir_in(folder_of(&args.out))
        .with_context(|| format!("--out {}: creating a folder beside it", args.out.display()))?;
    let dir = staging.path().to_path_buf();
    let mut staged = Staged::new();
    println!(
        "[1/5] data: {} ({} train, {} test images)",
        data.name,
        data.train.len(),
        data.test.len()
    );

    println!("[2/5] train");
    let net = super::train::run_stage(&data, &dir, args.seed, &mut staged)?;

    println!("[3/5] compile for `{}`", params.name);
    let held_out =
        super::compile::held_out_images(&net, &data.train, "the trained network", &data.name)?;
    let net = super::compile::choose_time_steps(&net, &params, &held_out, 0.0)?;
    let compiled = super::compile::compile_with_activity(&net, &params, Some(&data.train))?;
    super::compile::stage_outputs(
        &mut staged,
        &compiled,
        &dir.join("program.json"),
        Some(&dir.join("quantized.json")),
    )?;
    let float_acc = super::compile::report_float_accuracy(&net, &data.test);
    let reference = super::compile::report_accuracy(&compiled.quantized, &data.test, &params)?;

    println!("[4/5] simulate");
    std::fs::create_dir(dir.join("report"))?;
    let sim = super::sim::run_stage(&compiled.program, &data, &dir, &args.out, &mut staged)?;

    println!("[5/5] export Verilog");
    // A configuration that is not built in has its RTL compiled here on
    // first use (onespike_hw::generated says so on stderr).
    std::fs::create_dir(dir.join("verilog"))?;
    super::verilog::run_stage(&params, &dir.join("verilog"), &mut staged)?;
    staged.commit()?;
    let files = commit_folder(staging, &args.out)?;
    println!(
        "done: wrote {} files into {}:",
        files.len(),
        args.out.display()
    );
    for f in &files {
        println!("  {}", args.out.join(f).display());
    }
    print_summary(&Summary {
        data: &data,
        params: &params,
        net: &net,
        kept: compiled.quantized.synapse_count(),
        float_accuracy: float_acc,
        reference: &reference,
        sim: &sim,
    });
    Ok(())
}

/// The figures `run` ends with.
struct Summary<'a> {
    data: &'a onespike_dataset::Dataset,
    params: &'a HwParams,
    net: &'a onespike_compiler::FloatNetwork,
    kept: usize,
    float_accuracy: f64,
    reference: &'a onespike_dataset::RefEval,
    sim: &'a onespike_sim::report::SimReport,
}

/// Prints the summary: each figure with what it means.
fn print_summary(s: &Summary) {
    let sizes: Vec<String> = std::iter::once(s.net.input_size)
        .chain(s.net.layers.iter().map(|l| l.outputs))
        .map(|n| n.to_string())
        .collect();
    let synapses: usize = s.net.layers.iter().map(|l| l.weights.len()).sum();
    let sim = s.sim;
    let pct = |x: f64| format!("{:.2} %", 100.0 * x);
    println!(
        "summary: network {} at {} steps per inference; {} test images of {}; `{}` at {} MHz",
        sizes.join("-"),
        s.net.time_steps,
        s.data.test.len(),
        s.data.name,
        s.params.name,
        s.params.clock_mhz
    );
    println!("  accuracy");
    println!(
        "    {:>12}  float network as trained, before quantization",
        pct(s.float_accuracy)
    );
    println!(
        "    {:>12}  integer reference model: the hardware's arithmetic (the judge of every backend)",
        pct(s.reference.accuracy)
    );
    println!(
        "    {:>12}  cycle-accurate simulator of the RTL (same spikes and cycles as the Verilog)",
        pct(sim.accuracy)
    );
    println!("  activity");
    let ttfs = s.net.layers.iter().all(|l| l.neuron.is_ttfs());
    println!(
        "    {:>12}  spikes per neuron per image{}",
        format!("{:.3}", s.reference.spikes_per_neuron),
        if ttfs {
            " (a TTFS neuron fires at most once)"
        } else {
            ""
        }
    );
    println!(
        "    {:>12}  of synapses pruned ({} of {} kept)",
        pct(1.0 - s.kept as f64 / synapses.max(1) as f64),
        s.kept,
        synapses
    );
    println!(
        "    {:>12}  synaptic events per image (I += w, one per cycle per core)",
        format!("{:.0}", sim.synaptic_ops_per_inference)
    );
    println!("  per inference (simulator, mean over the test images)");
    println!(
        "    {:>12}  clock cycles; {:.2}x the lower bound of {:.0} (the busiest core's synaptic events)",
        format!("{:.0}", sim.cycles_per_inference.mean),
        sim.cycles_per_inference.mean / sim.cycles_lower_bound_per_inference.max(1.0),
        sim.cycles_lower_bound_per_inference
    );
    println!(
        "    {:>12}  latency at {} MHz ({:.0} inferences per second)",
        format!("{:.1} us", sim.latency_us.mean),
        s.params.clock_mhz,
        sim.throughput_inferences_per_s
    );
    println!(
        "    {:>12}  energy, from the energy model's technology table (docs/sim.md); {:.1} pJ per synaptic event",
        format!("{:.1} nJ", sim.energy_per_inference_pj.mean / 1000.0),
        sim.energy_per_synaptic_op_pj
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging_with(parent: &Path, files: &[&str]) -> tempfile::TempDir {
        let s = tempfile::Builder::new()
            .prefix(".onespike-run-")
            .tempdir_in(parent)
            .unwrap();
        for f in files {
            let p = s.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f.as_bytes()).unwrap();
        }
        s
    }

    #[test]
    fn a_second_run_replaces_the_first_as_a_whole_and_leaves_nothing_beside() {
        let parent = tempfile::tempdir().unwrap();
        let out = parent.path().join("onespike-out");
        let files =
            commit_folder(staging_with(parent.path(), &["a.txt", "sub/b.txt"]), &out).unwrap();
        assert_eq!(files, ["a.txt", "sub/b.txt"]);
        assert!(written_by_run(&out));
        check_out(&out, false).unwrap();
        commit_folder(staging_with(parent.path(), &["c.txt"]), &out).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [MANIFEST, "c.txt"], "files of the first run remain");
        let beside: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert_eq!(beside.len(), 1, "a staging or old folder was left beside");
    }

    #[test]
    fn a_run_folder_with_a_file_the_user_added_is_no_longer_replaced_silently() {
        let parent = tempfile::tempdir().unwrap();
        let out = parent.path().join("o");
        commit_folder(staging_with(parent.path(), &["a.txt"]), &out).unwrap();
        std::fs::write(out.join("notes.md"), "mine").unwrap();
        assert!(!written_by_run(&out));
        let e = check_out(&out, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        check_out(&out, true).unwrap();
    }
}
