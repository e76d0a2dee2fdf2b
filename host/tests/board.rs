//! `onespike board` end to end against a simulated board: a program and
//! test images streamed through the UART top of `tiny` (its rust-hdl RTL,
//! and its Verilated Verilog), the serial line at the real bit timing;
//! the board's classes and output spikes are the reference model's. Bad
//! input is refused before any work.

mod common;

use common::{onespike, scratch};
use onespike_compiler::{map_in_order, HwParams, InputEncoding, QuantNetwork};
use std::path::Path;

/// Uncompressed IDX images of 2x3 pixels and labels, train and test.
fn write_data(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    for prefix in ["train", "t10k"] {
        let mut img = 0x0803u32.to_be_bytes().to_vec();
        for d in [n, 2, 3] {
            img.extend(d.to_be_bytes());
        }
        img.extend((0..n * 6).map(|k| ((k * 97 + k / 6 * 31) % 256) as u8));
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), img).unwrap();
        let mut lab = 0x0801u32.to_be_bytes().to_vec();
        lab.extend(n.to_be_bytes());
        lab.extend((0..n).map(|k| (k % 3) as u8));
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), lab).unwrap();
    }
}

/// The 6-5-3 network of `hw/tests/common`, compiled for `tiny`.
fn write_program(path: &Path) {
    #[rustfmt::skip]
    let hidden = vec![9, 3, 0, 0, 4, 1, 0, 7, 7, 0, 0, 2, 2, 0, 5, 8, 0, 0, 0, 0, 0, 6, 6, 6, 5, 5, 5, 5, 5, 5];
    let output = vec![8, 0, 3, 0, 2, 0, 9, 0, 4, 1, 3, 3, 3, 3, 3];
    let net = QuantNetwork::dense(
        6,
        InputEncoding::new(4),
        12,
        8,
        vec![(5, 40, hidden), (3, 60, output)],
    );
    let prog = map_in_order(&net, &HwParams::preset("tiny").unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string(&prog).unwrap()).unwrap();
}

fn board(dir: &Path, extra: &[&str]) -> std::process::Output {
    let prog = dir.join("prog.json").display().to_string();
    let data = dir.join("data").display().to_string();
    let mut args = vec![
        "board",
        "--program",
        &prog,
        "--data",
        &data,
        "--images",
        "5",
    ];
    args.extend(extra);
    onespike(&args)
}

#[test]
fn a_simulated_board_gives_the_reference_models_classes() {
    let dir = scratch("board");
    write_data(&dir.join("data"), 8);
    write_program(&dir.join("prog.json"));
    let mut kinds = vec!["rtl"];
    if onespike_verilator::models_for_tests() {
        kinds.push("verilator");
    }
    for kind in kinds {
        // 100 MHz / 12.5 Mbaud: 8 clocks per bit, a quick simulation.
        let out = board(&dir, &["--simulate", kind, "--baud", "12500000"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("8 clocks per bit"), "{text}");
        assert!(
            text.contains("5 of 5 classes and output spike trains as the reference model's"),
            "{kind}: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_refused_before_any_work() {
    let dir = scratch("board-bad");
    write_data(&dir.join("data"), 8);
    write_program(&dir.join("prog.json"));
    let cases: [(&[&str], &str); 4] = [
        (
            &["--simulate", "fpga"],
            "--simulate fpga: must be rtl or verilator",
        ),
        (&["--simulate", "rtl", "--baud", "90000000"], "uart_baud"),
        (&["--simulate", "rtl", "--timeout", "0"], "--timeout 0"),
        (
            &["--port", "/dev/onespike-no-such-port"],
            "--port /dev/onespike-no-such-port: cannot open",
        ),
    ];
    for (extra, words) in cases {
        let out = board(&dir, extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains(words), "{extra:?}: {err}");
    }
    // Neither a port nor a simulated board.
    let out = board(&dir, &[]);
    assert!(!out.status.success());
    // A data folder that is not there.
    let out = onespike(&[
        "board",
        "--program",
        &dir.join("prog.json").display().to_string(),
        "--data",
        &dir.join("nothing-here").display().to_string(),
        "--simulate",
        "rtl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `onespike synth --top uart` for the program's configuration: the UART
/// top through Yosys, nextpnr and icepack, the resource table, the
/// bitstream, and the throughput at Fmax from the simulated cycles.
#[test]
fn synth_writes_the_uart_tops_bitstream_and_its_throughput() {
    if !onespike_hw::export::tool_for_tests("yosys")
        || !onespike_hw::export::tool_for_tests("nextpnr-ice40")
        || !onespike_hw::export::tool_for_tests("icepack")
    {
        return;
    }
    let dir = scratch("board-synth");
    write_data(&dir.join("data"), 8);
    write_program(&dir.join("prog.json"));
    let out_dir = dir.join("synth");
    let out = onespike(&[
        "synth",
        "--config",
        "tiny",
        "--top",
        "uart",
        "--program",
        &dir.join("prog.json").display().to_string(),
        "--data",
        &dir.join("data").display().to_string(),
        "--images",
        "5",
        "-o",
        &out_dir.display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("| tiny |") && text.contains("SPRAM"),
        "{text}"
    );
    assert!(text.contains("inferences/s at Fmax"), "{text}");
    let bin = out_dir.join("tiny").join("uart_top.bin");
    assert!(
        std::fs::metadata(&bin).unwrap().len() > 10_000,
        "{}",
        bin.display()
    );
    // A program of another configuration is refused before any synthesis.
    let out = onespike(&[
        "synth",
        "--config",
        "small",
        "--program",
        &dir.join("prog.json").display().to_string(),
        "--data",
        &dir.join("data").display().to_string(),
        "-o",
        &dir.join("synth2").display().to_string(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not for --config small"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
