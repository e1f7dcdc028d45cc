use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let _flush = hostr::logger::init(log::LevelFilter::Info);
    hostr::cli::run(hostr::config::Cli::parse())
}
