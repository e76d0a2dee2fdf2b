//! Writes the Verilog of a configuration: `cargo run -p onespike-hw --example export -- <tiny|small|default> <dir>`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let p = match args[1].as_str() {
        "tiny" => onespike_hw::tiny_params(),
        name => onespike_compiler::HwParams::preset(name).unwrap(),
    };
    let f = onespike_hw::export::write_verilog(&p, std::path::Path::new(&args[2])).unwrap();
    println!("{}", f.display());
    let g = onespike_hw::export::write_fpga_verilog(&p, std::path::Path::new(&args[2])).unwrap();
    println!("{}", g.display());
}
