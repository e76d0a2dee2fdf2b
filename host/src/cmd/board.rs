//! `onespike board`: a compiled program and test images through the UART
//! top (`uart_top.v`) of a board on a serial port, or of a simulated board
//! (its rust-hdl RTL or its Verilated Verilog, driven through the serial
//! line with the real bit timing), with the classes checked against the
//! integer reference model. Glue over `onespike_hw::uart_host`.

use anyhow::{bail, Context};
use onespike_compiler::reference::{ReferenceModel, RunOptions, Widths};
use onespike_compiler::{HwParams, Program};
use onespike_hw::driver::RunConfig;
use onespike_hw::uart_host::{ByteLink, SimLink, UartHost, UartPins};
use onespike_hw::HwError;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Run a compiled program on a board through its UART (or on a simulated board): classes and spikes.
///
/// Loads the program into the accelerator through the board's UART top
/// (`onespike verilog` writes `uart_top.v`; pins `clock`, `reset`, `rx`,
/// `tx`, `done`; 8N1 at the configuration's `uart_baud`), streams each test
/// image's input events, reads back every output spike and the class, and
/// compares each class and output spike train with the integer reference
/// model's. Prints the accuracy, the agreement and the images per second
/// the link achieved. Exits with status 2 if the board disagrees with the
/// reference model, 1 on bad input or a link error.
#[derive(clap::Args)]
pub struct Args {
    /// Compiled program (JSON, as `onespike compile` writes it).
    #[arg(long)]
    pub program: PathBuf,
    /// `default` (embedded MNIST subset) or a directory of IDX files; its
    /// test images are encoded as the program says.
    #[arg(long, default_value = "default")]
    pub data: String,
    /// The first N test images.
    #[arg(long, default_value_t = 100)]
    pub images: usize,
    /// Serial port of the board (e.g. /dev/ttyUSB1; the second channel of an
    /// iCEBreaker's FT2232H).
    #[arg(
        long,
        conflicts_with = "simulate",
        required_unless_present = "simulate"
    )]
    pub port: Option<String>,
    /// Instead of a board: `rtl` (rust-hdl) or `verilator` (the exported
    /// Verilog), clocked cycle by cycle, the serial line at the real bit
    /// timing (clock_mhz * 1e6 / uart_baud clocks per bit).
    #[arg(long)]
    pub simulate: Option<String>,
    /// Baud rate of the board's UART: the program's configuration's
    /// `uart_baud` (the bitstream must have been built for the same).
    #[arg(long)]
    pub baud: Option<u32>,
    /// Seconds to wait for an answer from the board.
    #[arg(long, default_value_t = 2.0)]
    pub timeout: f64,
}

/// A serial port as a [`ByteLink`].
struct PortLink {
    port: Box<dyn serialport::SerialPort>,
    name: String,
    timeout: Duration,
}

impl ByteLink for PortLink {
    fn send(&mut self, bytes: &[u8]) -> Result<(), HwError> {
        self.port.write_all(bytes).map_err(|e| HwError::Link {
            message: format!("{}: write failed: {e}", self.name),
        })
    }

    fn recv(&mut self, n: usize) -> Result<Vec<u8>, HwError> {
        let mut buf = vec![0u8; n];
        let mut got = 0;
        let start = Instant::now();
        while got < n {
            match self.port.read(&mut buf[got..]) {
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => {
                    return Err(HwError::Link {
                        message: format!("{}: read failed: {e}", self.name),
                    })
                }
            }
            if got < n && start.elapsed() > self.timeout {
                return Err(HwError::Link {
                    message: format!(
                        "{}: no answer within {:.1} s ({got} of {n} bytes): is the bitstream of this configuration loaded, and its UART at the same baud rate?",
                        self.name,
                        self.timeout.as_secs_f64()
                    ),
                });
            }
        }
        Ok(buf)
    }
}

fn simulated(p: &HwParams, kind: &str) -> anyhow::Result<Box<dyn UartPins>> {
    Ok(match kind {
        "rtl" => match onespike_hw::configs::built_in_row(p) {
            Ok(_) => onespike_hw::with_uart_config!(p, U => {
                Box::new(onespike_hw::uart_host::HdlUart::<U>::new(p)) as Box<dyn UartPins>
            })?,
            Err(_) => Box::new(onespike_hw::generated::library(p)?.uart(p)?),
        },
        "verilator" => Box::new(onespike_verilator::VerilatorUart::new(p)?),
        other => bail!("--simulate {other}: must be rtl or verilator"),
    })
}

pub fn main(args: Args) -> anyhow::Result<()> {
    let prog = Program::load(&args.program)
        .with_context(|| format!("loading the program {}", args.program.display()))?;
    let mut params = prog.params.clone();
    if let Some(b) = args.baud {
        params.uart_baud = b;
    }
    params
        .validate(&format!("--program {} with --baud", args.program.display()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!(
            "--timeout {}: must be a number of seconds > 0",
            args.timeout
        );
    }
    if args.images == 0 {
        bail!("--images 0: run at least one image");
    }
    let net = prog
        .network(&format!("--program {}", args.program.display()))
        .context("reading the network back from the program")?;
    let data = onespike_dataset::load(&args.data)?;
    super::checks::check_data_encoded(
        &data,
        "--data",
        &net.encoding,
        net.input_size,
        &format!("the program {}", args.program.display()),
    )?;
    let n = args.images.min(data.test.len());
    // Only the output layer's spikes travel back over the link.
    let run = RunConfig {
        all_spikes: false,
        ..RunConfig::default()
    };
    let report = match (&args.port, &args.simulate) {
        (Some(port), Some(_)) => bail!("--port {port} and --simulate: give one"),
        (Some(port), None) => {
            let sp = serialport::new(port, params.uart_baud)
                .timeout(Duration::from_millis(50))
                .open()
                .with_context(|| format!("--port {port}: cannot open"))?;
            let link = PortLink {
                port: sp,
                name: port.clone(),
                timeout: Duration::from_secs_f64(args.timeout),
            };
            stream(
                UartHost::new(link, &params),
                &prog,
                &net,
                &data,
                n,
                &run,
                port,
            )?
        }
        (None, Some(kind)) => {
            let pins = simulated(&params, kind)?;
            let what = format!(
                "simulated board ({kind}, {} clocks per bit)",
                params.uart_clocks_per_bit()
            );
            stream(
                UartHost::new(SimLink::new(pins, &params), &params),
                &prog,
                &net,
                &data,
                n,
                &run,
                &what,
            )?
        }
        (None, None) => bail!("give --port <serial port> or --simulate rtl|verilator"),
    };
    if report.disagreements > 0 {
        std::process::exit(2);
    }
    Ok(())
}

struct Streamed {
    disagreements: usize,
}

#[allow(clippy::too_many_arguments)]
fn stream<L: ByteLink>(
    mut host: UartHost<L>,
    prog: &Program,
    net: &onespike_compiler::QuantNetwork,
    data: &onespike_dataset::Dataset,
    n: usize,
    run: &RunConfig,
    what: &str,
) -> anyhow::Result<Streamed> {
    let started = Instant::now();
    host.load(prog, run).context("loading the program")?;
    let load_seconds = started.elapsed().as_secs_f64();
    println!(
        "loaded {} into {what} in {load_seconds:.1} s",
        prog.params.name
    );
    let model = ReferenceModel::new(net);
    let opt = RunOptions {
        widths: Widths::from(&prog.params),
        early_exit: false,
    };
    let (mut correct, mut disagreements) = (0, 0);
    let t0 = Instant::now();
    for k in 0..n {
        let input = net.encoding.encode(data.test.image(k));
        let board = host
            .infer(prog, &input, 1_000_000)
            .with_context(|| format!("test image {k}"))?;
        let want = model.run(&input, opt)?;
        if board.class != want.class || board.spikes.output() != want.spikes.output() {
            disagreements += 1;
            if disagreements <= 5 {
                println!(
                    "image {k}: the board says class {} ({} output spikes), the reference model {} ({})",
                    board.class,
                    board.spikes.output().len(),
                    want.class,
                    want.spikes.output().len()
                );
            }
        }
        correct += (board.class == data.test.labels[k] as usize) as usize;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{n} test images of {}: accuracy {:.2} % ({correct}/{n}); {} of {n} classes and output spike trains as the reference model's; {:.1} images/s over the link",
        data.name,
        100.0 * correct as f64 / n as f64,
        n - disagreements,
        n as f64 / secs
    );
    Ok(Streamed { disagreements })
}
